// The OpenADR VEN as an MQTT device: whether an event is active now, its
// signal level, how we answered it, and when the next one starts. Derived from
// the VEN's notices and the time, so it is recomputed on every notice and on a
// timer (an event becomes active without a message).
import { topicId } from './discovery.js';

const ms = (iso) => Date.parse(iso);

/** Keeps the VEN's events as its notices tell them. */
export class VenEvents {
  #events = new Map();

  /** Feed a notice of OpenAdrVen's `onNotice`. */
  notice(notice) {
    if (notice.type === 'event') this.#events.set(notice.event.event_descriptor.event_id, { event: notice.event, opt: notice.opt });
    if (notice.type === 'cancelled') this.#events.delete(notice.eventId);
    if (notice.type === 'registrationCancelled') this.#events.clear();
  }

  /** The device's values at `nowMs`. */
  values(nowMs) {
    let active = null;
    let next = null;
    for (const { event, opt } of this.#events.values()) {
      if (['cancelled', 'completed'].includes(event.event_descriptor.event_status)) continue;
      const start = ms(event.active_period.dtstart);
      const end = event.active_period.duration > 0 ? start + event.active_period.duration * 1000 : Infinity;
      if (start <= nowMs && nowMs < end && (!active || start > active.start)) active = { event, opt, start };
      if (start > nowMs && (!next || start < next.start)) next = { event, opt, start };
    }
    const current = (event) => {
      for (const signal of event.event_signals) {
        const interval = signal.intervals.find((i) => ms(i.dtstart) <= nowMs && nowMs < ms(i.dtstart) + i.duration * 1000);
        if (interval && typeof interval.signal_payload === 'number') return interval.signal_payload;
      }
      return null;
    };
    const shown = active ?? next;
    return {
      active: Boolean(active),
      signal: active ? current(active.event) : null,
      opt: shown?.opt ?? null,
      event_id: shown?.event.event_descriptor.event_id ?? null,
      next_event: next ? new Date(next.start).toISOString() : null,
    };
  }
}

/** The VEN as a device of js/mqtt/discovery.js. */
export function venDevice(venName, values) {
  return { kind: 'openadr', id: `openadr_${topicId(venName)}`, name: `OpenADR VEN ${venName}`, manufacturer: 'wattbridge', model: 'OpenADR 2.0b VEN', values };
}
