"""Write the VTN's messages as OpenLEADR 0.5.36 renders them (unsigned) into
tests/fixtures/openadr/, for the native parser tests (tests/openadr.rs).

Run: .venv-openleadr/bin/python tests/openadr/make_fixtures.py
"""
import pathlib
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

from openleadr import messaging, objects

OUT = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "openadr"
START = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
OK = {"response_code": 200, "response_description": "OK", "request_id": "req-1"}


def write(name, message_type, **payload):
    (OUT / f"{name}.xml").write_text(messaging.create_message(message_type, **payload))


def event(event_id, number, status, payloads, targets, response_required="always"):
    made = objects.Event(
        event_descriptor=objects.EventDescriptor(event_id=event_id, modification_number=number, priority=1,
                                                 market_context="http://marketcontext01", event_status=status,
                                                 created_date_time=START - timedelta(hours=1),
                                                 modification_date_time=START - timedelta(minutes=30)),
        event_signals=[objects.EventSignal(
            intervals=[objects.Interval(dtstart=START + timedelta(minutes=10 * i), duration=timedelta(minutes=10),
                                        uid=str(i), signal_payload=p) for i, p in enumerate(payloads)],
            signal_name="simple", signal_type="level", signal_id="sig-1", current_value=0.0)],
        targets=targets, response_required=response_required)
    made.event_descriptor.event_status = status  # Event() derives it from the clock otherwise
    return asdict(made)


OUT.mkdir(parents=True, exist_ok=True)
profiles = [{"profile_name": "2.0b", "transports": [{"transport_name": "simpleHttp"}]}]
write("query_registration_answer", "oadrCreatedPartyRegistration", response=OK, vtn_id="VTN-1",
      profiles=profiles, requested_oadr_poll_freq=timedelta(seconds=10))
write("created_party_registration", "oadrCreatedPartyRegistration", response=OK, vtn_id="VTN-1",
      ven_id="ven-1", registration_id="reg-1", profiles=profiles, requested_oadr_poll_freq=timedelta(seconds=10))
request = {"report_request_id": "rr-1", "report_specifier": {
    "report_specifier_id": "wattbridge_telemetry_usage", "granularity": timedelta(seconds=10),
    "report_back_duration": timedelta(seconds=30),
    "specifier_payloads": [{"r_id": "meter1_powerReal", "reading_type": "Direct Read"}]}}
write("registered_report", "oadrRegisteredReport", response=OK, ven_id="ven-1", report_requests=[request])
write("create_report", "oadrCreateReport", request_id="req-2", ven_id="ven-1", report_requests=[request])
write("distribute_event", "oadrDistributeEvent", response=OK, request_id="req-3", vtn_id="VTN-1", events=[
    event("ev-1", 0, "far", [1.0, 3.5], [{"ven_id": "ven-1"}, {"resource_id": "meter1"}, {"group_id": "g1"}]),
    event("ev-2", 2, "cancelled", [2.0], [{"ven_id": "ven-1"}], response_required="never")])
write("response", "oadrResponse", response=OK, ven_id="ven-1")
write("request_reregistration", "oadrRequestReregistration", ven_id="ven-1")
write("canceled_party_registration", "oadrCanceledPartyRegistration", response=OK, registration_id="reg-1", ven_id="ven-1")
write("updated_report", "oadrUpdatedReport", response=OK, ven_id="ven-1")
# A report the VTN sends the VEN (OpenLEADR writes payloadFloat only;
# tests/openadr.rs derives the other 2.0b payload forms from it).
write("update_report", "oadrUpdateReport", request_id="req-5", ven_id="ven-1", reports=[{
    "report_id": "vtn-rep-1", "report_request_id": "rr-9", "report_specifier_id": "vtn_status",
    "report_name": "TELEMETRY_USAGE", "created_date_time": START, "dtstart": START,
    "intervals": [{"dtstart": START, "report_payload": {"r_id": "site_powerReal", "value": 0.25}},
                  {"dtstart": START + timedelta(minutes=10), "report_payload": {"r_id": "site_powerReal", "value": 3}}]}])
# The VTN ends a report, and our registration.
write("cancel_report", "oadrCancelReport", request_id="req-6", report_request_id="rr-1", report_to_follow=False, ven_id="ven-1")
write("cancel_party_registration", "oadrCancelPartyRegistration", request_id="req-7", registration_id="reg-1", ven_id="ven-1")
