"""The real OpenLEADR VTN (openleadr==0.5.36 from PyPI) on loopback, for the
end-to-end tests. It prints what it receives as JSON lines on stdout and
takes commands as JSON lines on stdin:

  {"cmd": "event", "event_id": "ev1", "payload": 1.0}        push an event to the registered VEN
                                                               (starting in 5 min, or "start_in" seconds)
  {"cmd": "modify", "event_id": "ev1", "payload": 3.0}       change it (new modification number)
  {"cmd": "cancel", "event_id": "ev1"}                       cancel it
  {"cmd": "forget"}                                          forget the registered VEN: its next
                                                             messages are answered with
                                                             oadrRequestReregistration until it
                                                             registers again
  {"cmd": "sign_poll_answer"}                                print an oadrResponse signed by the VTN key
  {"cmd": "sign_distribute", "event_ids": ["ev9"]}            print an oadrDistributeEvent with these
                                                             events (response never required), signed
                                                             by the VTN key but not delivered
  {"cmd": "verify", "xml": "..."}                            check one of OUR messages with
                                                             openleadr.messaging.validate_xml_signature

Usage: vtn.py PORT [--cert CERT --key KEY] [--sampling offered]
                [--tls-cert CERT --tls-key KEY --tls-ca CA]

With --tls-*, the VTN serves HTTPS as OpenLEADR does: its own certificate,
client certificates required (checked against CA), and every message after
registration signed by the certificate the VEN registered over.

Reports are requested every second, or with `--sampling offered` at the rate
each report description offers.
"""
import asyncio
import json
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

from lxml import etree
from openleadr import OpenADRServer, messaging, objects, utils


def emit(kind, **fields):
    print(json.dumps({"kind": kind, **fields}, default=str), flush=True)


async def main():
    args = sys.argv[1:]
    port = int(args[0])
    opts = dict(zip(args[1::2], args[2::2]))
    ven = {}
    forgotten = set()
    secure = "--tls-cert" in opts

    def ven_lookup(ven_id):
        # OpenLEADR asks a VEN it does not know (None) to register again.
        if ven_id in forgotten:
            return None
        if ven.get("ven_id") == ven_id:
            # Over TLS: the VEN registered with, and must keep signing with, this fingerprint.
            return dict(ven)
        # Over plain HTTP every other VEN is known (several register one after another).
        return None if secure else {"ven_id": ven_id, "registration_id": "reg-" + ven_id}

    tls = dict(http_cert=opts["--tls-cert"], http_key=opts["--tls-key"], http_ca_file=opts["--tls-ca"]) if secure else {}
    server = OpenADRServer(vtn_id="WattbridgeTestVTN", http_port=port, http_host="127.0.0.1",
                           requested_poll_freq=timedelta(seconds=1), ven_lookup=ven_lookup,
                           cert=opts.get("--cert"), key=opts.get("--key"), show_fingerprint=False, **tls)

    async def on_create_party_registration(info):
        forgotten.discard("ven-" + info["ven_name"])
        ven.update(ven_id="ven-" + info["ven_name"], registration_id="reg-" + info["ven_name"],
                   fingerprint=info.get("fingerprint"))
        emit("registration", ven_name=info["ven_name"], ven_id=ven["ven_id"])
        return ven["ven_id"], ven["registration_id"]

    async def on_register_report(ven_id, resource_id, measurement, unit, scale, min_sampling_interval, max_sampling_interval):
        emit("register_report", ven_id=ven_id, resource_id=resource_id, measurement=measurement,
             unit=unit, scale=scale, min=min_sampling_interval.total_seconds())

        async def on_data(data):
            for when, value in data:
                emit("report_value", resource_id=resource_id, measurement=measurement, value=value,
                     at=when.timestamp())
        rate = min_sampling_interval if opts.get("--sampling") == "offered" else timedelta(seconds=1)
        return on_data, rate

    async def on_cancel_party_registration(payload):
        # OpenLEADR hands over the whole message payload here.
        emit("cancel_registration", ven_id=payload["ven_id"] if isinstance(payload, dict) else payload)

    def on_created_event(ven_id, event_id, opt_type):
        emit("event_response", ven_id=ven_id, event_id=event_id, opt_type=opt_type)

    # OpenLEADR 0.5.36 reads only a number from a report payload (a resource
    # status raises KeyError 'value' in its handler): after its XSD check and
    # its parsing, hand the status it read to the report callback as the value.
    report_service = server.services["report_service"]
    read_numbers_only = report_service.handlers["oadrUpdateReport"]

    async def update_report(payload):
        for report in payload.get("reports", []):
            for interval in report.get("intervals", []):
                reading = interval["report_payload"]
                if "value" not in reading:
                    reading["value"] = {k: v for k, v in reading.items() if k != "r_id"}
        return await read_numbers_only(payload)

    report_service.handlers["oadrUpdateReport"] = update_report
    server.add_handler("on_create_party_registration", on_create_party_registration)
    server.add_handler("on_register_report", on_register_report)
    server.add_handler("on_cancel_party_registration", on_cancel_party_registration)
    await server.run_async()
    scheme = "https" if tls else "http"
    emit("ready", url=f"{scheme}://127.0.0.1:{port}/OpenADR2/Simple/2.0b")

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        cmd = command["cmd"]
        try:
            if cmd == "event":
                start = datetime.now(timezone.utc) + timedelta(seconds=command.get("start_in", 300))
                server.add_event(ven_id=ven["ven_id"], event_id=command["event_id"], signal_name="simple",
                                 signal_type="level",
                                 intervals=[{"dtstart": start, "duration": timedelta(minutes=10),
                                             "signal_payload": command["payload"]}],
                                 callback=on_created_event)
            elif cmd == "modify":
                event = utils.find_by(server.events[ven["ven_id"]], "event_descriptor.event_id", command["event_id"])
                utils.setmember(event.event_signals[0].intervals[0], "signal_payload", command["payload"])
                utils.increment_event_modification_number(event)
                # OpenLEADR drops an event's callback after the first answer;
                # register it again so the answer to the modification is seen too.
                server.event_callbacks[command["event_id"]] = (event, on_created_event)
                server.events_updated[ven["ven_id"]] = True
            elif cmd == "forget":
                forgotten.add(ven["ven_id"])
            elif cmd == "cancel":
                server.cancel_event(ven["ven_id"], command["event_id"])
            elif cmd == "verify":
                tree = etree.fromstring(command["xml"].encode())
                try:
                    messaging.validate_xml_signature(tree, cert_fingerprint=command.get("fingerprint"))
                    emit("verified", ok=True)
                except Exception as err:  # noqa: BLE001 - report any failure to the test
                    emit("verified", ok=False, error=f"{type(err).__name__}: {err}")
            elif cmd == "sign_poll_answer":
                msg = messaging.create_message("oadrResponse", cert=open(opts["--cert"], "rb").read(),
                                               key=open(opts["--key"], "rb").read(),
                                               response={"response_code": 200, "response_description": "OK", "request_id": None},
                                               ven_id=ven.get("ven_id", "x"))
                emit("signed", xml=msg)
            elif cmd == "sign_distribute":
                start = datetime.now(timezone.utc) + timedelta(minutes=5)
                events = [asdict(objects.Event(
                    event_descriptor=objects.EventDescriptor(event_id=event_id, modification_number=0,
                                                             market_context="http://marketcontext01",
                                                             event_status="far",
                                                             created_date_time=datetime.now(timezone.utc)),
                    event_signals=[objects.EventSignal(
                        intervals=[objects.Interval(dtstart=start, duration=timedelta(minutes=10),
                                                    signal_payload=1.0)],
                        signal_name="simple", signal_type="level", signal_id=utils.generate_id())],
                    targets=[{"ven_id": ven.get("ven_id", "x")}],
                    response_required="never")) for event_id in command["event_ids"]]
                msg = messaging.create_message("oadrDistributeEvent", cert=open(opts["--cert"], "rb").read(),
                                               key=open(opts["--key"], "rb").read(),
                                               request_id=utils.generate_id(), vtn_id="WattbridgeTestVTN",
                                               events=events)
                emit("signed", xml=msg)
            emit("done", cmd=cmd)
        except Exception as err:  # noqa: BLE001
            emit("command_failed", cmd=cmd, error=f"{type(err).__name__}: {err}")
    await server.stop()


asyncio.run(main())
