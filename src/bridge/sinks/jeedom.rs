//! Jeedom as a sink: one virtual equipment per Linky meter and per Weheat
//! pump, historized info commands, and past values written at their own date
//! (`cmd::event` with a `datetime` in Jeedom's local time), oldest first.
//!
//! - From the bridge's rows: Linky's load curve (average W of each interval,
//!   written at its start), daily consumption and production (kWh of each
//!   complete Paris day, at `D 00:00:00`), and the pump's daily electricity
//!   and heat (kWh of each complete local day). A day with a hole gets no total.
//! - From [`Current`] values the platform gathers when delivering: the period
//!   totals and their cost, max power (at the peak's time), the pump's state,
//!   temperatures and COP (at the time Jeedom receives them).
//!
//! Values are sent in [`Sink::queue`], so the bridge's cursor moves only once
//! Jeedom acknowledged them; a day is sent once all of its intervals were
//! seen (the last day waits for [`Sink::deliver`]). [`Sink::resume`] moves
//! back to the correction window (and to the start of the last day), and a
//! small ledger per equipment (a hash per command and day of that window,
//! and the last value of each current command) lets a rerun send nothing
//! while a corrected day is sent again whole (a resend of the same
//! (command, datetime) overwrites the row).
//!
//! The autumn's repeated hour: Jeedom's datetimes are naive, so 02:30 summer
//! time and 02:30 winter time are one row. The two values of one local time
//! are sent as one, their mean (for the load curve, the average power of both
//! passes); the day's energy is unaffected (daily totals sum UTC intervals).

use crate::bridge::index::Cursor;
use crate::bridge::sink::{energy_key, Row, Sink, SourceData};
use crate::bridge::source::Pending;
use crate::core::store::{load, save};
use crate::core::time::{paris_date, Date, Zone};
use crate::core::{Clock, Error, HttpClient, Result, Store};
use crate::jeedom::{Cmd, CmdSpec, Jeedom, SubType};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

const DAY: i64 = 86_400;

/// What the person configured beyond the connection.
#[derive(Clone, Debug)]
pub struct Options {
    /// Days before today re-read every run (Linky's `correction_days`).
    pub correction_days: i32,
    /// The object (room) new equipments go in: a name or an id.
    pub object: Option<String>,
    /// `jeedom.timezone`; without one, Jeedom's own, else Jeedom's default, Europe/Brussels.
    pub timezone: Option<String>,
    /// The unit of the cost commands.
    pub currency: String,
    /// Look equipments up, create nothing, send nothing.
    pub dry_run: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { correction_days: 3, object: None, timezone: None, currency: "EUR".into(), dry_run: false }
    }
}

/// A value that is not interval energy, gathered by the platform when the
/// sink delivers (statistics, max power, a pump's live state).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Current {
    /// `linky` or `weheat`.
    pub source: String,
    /// The meter's PRM, the pump's id.
    pub subject: String,
    /// The command's logicalId (see [`spec`]).
    pub cmd: String,
    /// A number, or text for a string command.
    pub value: Value,
    /// A past value's own instant (unix ms); none: now.
    #[serde(default)]
    pub at_ms: Option<i64>,
}

/// Where the current values come from: called once, when delivering.
pub type CurrentValues<'a> = Box<dyn Fn() -> Pending<'a, Vec<Current>> + 'a>;

/// The commands wattbridge keeps, by source and logicalId.
pub fn spec(source: &str, logical_id: &str, currency: &str) -> Option<CmdSpec> {
    let numeric = |name: &str, unit: &'static str, generic_type: &'static str| CmdSpec {
        logical_id: logical_id.to_owned(),
        name: name.to_owned(),
        sub_type: SubType::Numeric,
        unit,
        generic_type,
        keep_every_point: false,
        decimals: (unit == "kWh").then_some(3),
    };
    const PERIODS: [(&str, &str); 6] = [
        ("yesterday", "hier"),
        ("this_week", "cette semaine"),
        ("last_week", "semaine dernière"),
        ("this_month", "ce mois"),
        ("last_month", "mois dernier"),
        ("this_year", "cette année"),
    ];
    let spec = match (source, logical_id) {
        ("linky", "consumption_load_curve") => CmdSpec { keep_every_point: true, ..numeric("Puissance moyenne", "W", "POWER") },
        ("linky", "daily_consumption") => numeric("Consommation jour", "kWh", "DAILY_CONSUMPTION"),
        ("linky", "daily_consumption_max_power") => CmdSpec { keep_every_point: true, ..numeric("Puissance max jour", "VA", "POWER") },
        ("linky", "daily_production") => numeric("Production jour", "kWh", "PRODUCTION"),
        ("linky", id) => {
            let (period, cost) = match id.strip_suffix("_cost") {
                Some(period) => (period, true),
                None => (id, false),
            };
            let (_, french) = PERIODS.iter().find(|(p, _)| *p == period)?;
            if cost {
                let mut spec = numeric(&format!("Coût {french}"), "", "");
                spec.unit = if currency == "EUR" { "€" } else { "" };
                spec
            } else {
                numeric(&format!("Consommation {french}"), "kWh", "CONSUMPTION")
            }
        }
        ("weheat", "state") => CmdSpec { sub_type: SubType::String, ..numeric("État", "", "") },
        ("weheat", "outside_temperature") => numeric("Température extérieure", "°C", "TEMPERATURE"),
        ("weheat", "water_in_temperature") => numeric("Température eau entrée", "°C", "TEMPERATURE"),
        ("weheat", "water_out_temperature") => numeric("Température eau sortie", "°C", "TEMPERATURE"),
        ("weheat", "room_temperature") => numeric("Température pièce", "°C", "TEMPERATURE"),
        ("weheat", "dhw_temperature") => numeric("Température eau chaude", "°C", "TEMPERATURE"),
        ("weheat", "cop") => numeric("COP", "", ""),
        ("weheat", "daily_electricity") => numeric("Électricité jour", "kWh", "DAILY_CONSUMPTION"),
        ("weheat", "daily_heat") => numeric("Chaleur jour", "kWh", ""),
        _ => return None,
    };
    Some(spec)
}

/// `wattbridge_linky_<prm>`, `Linky <prm>`.
fn equipment_of(source: &str, subject: &str) -> (String, String) {
    let title = if source == "linky" { "Linky" } else { "Weheat" };
    (format!("wattbridge_{source}_{subject}"), format!("{title} {subject}"))
}

/// One value to write: its instant (for the order), its local datetime (the
/// history row's key), and when the day it belongs to is complete (unix s).
#[derive(Clone, Debug)]
struct Point {
    at_ms: i64,
    label: String,
    value: Value,
    closes_at: i64,
}

/// What was sent of one command: the latest datetime, a hash per day of the
/// correction window, and the last value of a current command.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Sent {
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    days: BTreeMap<String, String>,
    #[serde(default)]
    last: Option<Value>,
    /// The last event sent was older than `until`: Jeedom shows it as the
    /// command's current value until the newest one is sent again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    stale: bool,
}

type Ledger = BTreeMap<String, Sent>;

struct Equipment {
    id: Option<String>,
    name: String,
    created: bool,
    cmds: BTreeMap<String, String>,
    /// Commands found on the box, by logicalId, not yet checked against their spec.
    unchecked: BTreeMap<String, Cmd>,
    ledger: Ledger,
}

/// One day of a lane: its midnight and the next (unix s, in its zone), the
/// seconds its intervals cover and their kWh.
struct Day {
    midnight: i64,
    next: i64,
    covered: i64,
    kwh: f64,
}

/// A key of the bridge: whose it is, and what is pending of it.
struct Lane {
    source: String,
    subject: String,
    channel: String,
    last_index: Option<f64>,
    /// The latest interval start seen: days closing before it are complete.
    latest: i64,
    /// The days being summed, in time order.
    days: Vec<Day>,
    /// Load-curve points not yet sent.
    curve: Vec<Point>,
}

pub struct JeedomSink<'a, H, S, C> {
    client: &'a Jeedom<H>,
    store: &'a S,
    clock: &'a C,
    options: Options,
    current: CurrentValues<'a>,
    zone: RefCell<Option<Zone>>,
    equipments: RefCell<BTreeMap<String, Equipment>>,
    lanes: RefCell<BTreeMap<String, Lane>>,
    /// The newest point of each command left showing an older value, by
    /// (equipment, command), with its source: sent again when delivering,
    /// unless a newer one went out meanwhile.
    newest: RefCell<BTreeMap<(String, String), (String, Point)>>,
    written: RefCell<usize>,
    unchanged: RefCell<usize>,
}

impl<'a, H, S, C> JeedomSink<'a, H, S, C> {
    pub fn new(client: &'a Jeedom<H>, store: &'a S, clock: &'a C, options: Options, current: CurrentValues<'a>) -> Self {
        JeedomSink {
            client,
            store,
            clock,
            options,
            current,
            zone: RefCell::default(),
            equipments: RefCell::default(),
            lanes: RefCell::default(),
            newest: RefCell::default(),
            written: RefCell::new(0),
            unchanged: RefCell::new(0),
        }
    }
}

/// FNV-1a over a day's `datetime=value` pairs: what was sent of that day.
fn day_hash(points: &[Point]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for point in points {
        for byte in point.label.bytes().chain([b'=']).chain(point.value.to_string().bytes()).chain([b';']) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

fn rounded(value: f64, decimals: i32) -> Value {
    let scale = 10f64.powi(decimals);
    let value = (value * scale).round() / scale;
    serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
}

/// Points of one local datetime merged into one (the autumn's repeated hour):
/// the mean of numbers, else the later value. Sorted by instant.
fn merge_repeated(mut points: Vec<Point>) -> Vec<Point> {
    points.sort_by_key(|p| p.at_ms);
    let mut merged: Vec<(Point, u32)> = Vec::with_capacity(points.len());
    for point in points {
        match merged.iter_mut().rev().take(4).find(|(p, _)| p.label == point.label) {
            Some((kept, n)) => {
                if let (Some(a), Some(b)) = (kept.value.as_f64(), point.value.as_f64()) {
                    kept.value = rounded((a * f64::from(*n) + b) / f64::from(*n + 1), 3);
                } else {
                    kept.value = point.value;
                }
                *n += 1;
            }
            None => merged.push((point, 1)),
        }
    }
    merged.into_iter().map(|(p, _)| p).collect()
}

impl<'a, H: HttpClient, S: Store, C: Clock> JeedomSink<'a, H, S, C> {
    /// Jeedom's time zone: `jeedom.timezone`, else Jeedom's `timezone`
    /// setting, else Jeedom's default for it, Europe/Brussels (contract §7).
    async fn zone(&self) -> Result<Zone> {
        if let Some(zone) = *self.zone.borrow() {
            return Ok(zone);
        }
        let name = match &self.options.timezone {
            Some(name) if !name.trim().is_empty() => name.clone(),
            _ => self.client.timezone().await?.unwrap_or_else(|| "Europe/Brussels".into()),
        };
        let zone = Zone::named(&name).ok_or_else(|| {
            Error::invalid_config(format!("Jeedom's time zone '{name}' is not one wattbridge knows (the EU-rule zones and UTC): set jeedom.timezone")).provider(crate::jeedom::PROVIDER)
        })?;
        *self.zone.borrow_mut() = Some(zone);
        Ok(zone)
    }

    /// The equipment of a meter or pump: found by logicalId, else created
    /// (enabled, visible, in `jeedom.object`); one found disabled is enabled.
    async fn equipment(&self, source: &str, subject: &str) -> Result<String> {
        let (logical_id, name) = equipment_of(source, subject);
        if self.equipments.borrow().contains_key(&logical_id) {
            return Ok(logical_id);
        }
        let found = self.client.find_equipment(&logical_id).await?;
        let mut created = false;
        let eq = match found {
            Some(eq) if eq.enabled || self.options.dry_run => Some(eq),
            Some(eq) => Some(self.client.save_equipment(Some(&eq.id), &name, &logical_id, None).await?),
            None if self.options.dry_run => None,
            None => {
                let object = match self.options.object.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
                    Some(object) => Some(self.client.object_id(object).await?),
                    None => None,
                };
                created = true;
                Some(self.client.save_equipment(None, &name, &logical_id, object.as_deref()).await?)
            }
        };
        let unchecked: BTreeMap<String, Cmd> = match &eq {
            Some(eq) if !created => self.client.cmds(&eq.id).await?.into_iter().filter(|c| !c.logical_id.is_empty()).map(|c| (c.logical_id.clone(), c)).collect(),
            _ => BTreeMap::new(),
        };
        let cmds = unchecked.iter().map(|(logical_id, c)| (logical_id.clone(), c.id.clone())).collect();
        let ledger: Ledger = load(self.store, &self.ledger_key(&logical_id)).await?.unwrap_or_default();
        let name = eq.as_ref().map_or(name, |e| e.name.clone());
        self.equipments.borrow_mut().insert(logical_id.clone(), Equipment { id: eq.map(|e| e.id), name, created, cmds, unchecked, ledger });
        Ok(logical_id)
    }

    fn ledger_key(&self, equipment: &str) -> String {
        format!("sync/jeedom/sent/{equipment}")
    }

    /// The id of a command of an equipment, created when missing. One found
    /// unhistorized (its history would be dropped) or without the archive
    /// settings it needs is brought back to them first.
    async fn cmd_id(&self, equipment: &str, source: &str, logical_id: &str) -> Result<String> {
        let (eq_id, known, unchecked) = {
            let mut equipments = self.equipments.borrow_mut();
            let eq = equipments.get_mut(equipment).ok_or_else(|| Error::invalid_input("unknown Jeedom equipment"))?;
            (eq.id.clone(), eq.cmds.get(logical_id).cloned(), eq.unchecked.remove(logical_id))
        };
        let spec = || spec(source, logical_id, &self.options.currency).ok_or_else(|| Error::invalid_input(format!("no Jeedom command '{logical_id}' for {source}")));
        if let Some(id) = known {
            if let Some(found) = unchecked {
                if let Some(repair) = spec()?.repair_params(&found) {
                    self.client.update_cmd(repair).await?;
                }
            }
            return Ok(id);
        }
        let eq_id = eq_id.ok_or_else(|| Error::invalid_input("a dry run creates no Jeedom equipment"))?;
        let id = self.client.save_cmd(&eq_id, &spec()?).await?;
        if let Some(eq) = self.equipments.borrow_mut().get_mut(equipment) {
            eq.cmds.insert(logical_id.to_owned(), id.clone());
        }
        Ok(id)
    }

    /// The first day of the correction window in Jeedom's zone, `YYYY-MM-DD`.
    fn window_day(&self, zone: Zone) -> String {
        zone.local(self.clock.now_ms()).0.add_days(-(self.options.correction_days.max(0) + 1)).to_string()
    }

    /// Send a command's points, a day at a time, oldest first: days after
    /// what was sent, and days of the correction window that differ from
    /// what was sent. Then keep what was sent in the ledger.
    async fn send(&self, source: &str, subject: &str, logical_id: &str, points: Vec<Point>) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let zone = self.zone().await?;
        let equipment = self.equipment(source, subject).await?;
        let window = self.window_day(zone);
        let mut sent = self.equipments.borrow().get(&equipment).and_then(|e| e.ledger.get(logical_id).cloned()).unwrap_or_default();
        let points = merge_repeated(points);
        let batch_newest = points.iter().max_by(|a, b| a.label.cmp(&b.label)).cloned();
        let mut days: Vec<(String, Vec<Point>)> = Vec::new();
        for point in points {
            let day = point.label[..10].to_owned();
            match days.last_mut() {
                Some((d, list)) if *d == day => list.push(point),
                _ => days.push((day, vec![point])),
            }
        }
        for (day, list) in days {
            let hash = day_hash(&list);
            let new = list.iter().any(|p| sent.until.as_ref().map_or(true, |until| p.label > *until));
            let changed = day >= window && sent.days.get(&day) != Some(&hash);
            if !(new || changed) {
                *self.unchanged.borrow_mut() += list.len();
                continue;
            }
            let cmd = self.cmd_id(&equipment, source, logical_id).await?;
            for point in &list {
                self.client.event(&cmd, point.value.clone(), Some(&point.label)).await?;
                sent.stale = sent.until.as_ref().is_some_and(|until| point.label < *until);
                if !sent.stale {
                    sent.until = Some(point.label.clone());
                }
            }
            *self.written.borrow_mut() += list.len();
            sent.days.insert(day, hash);
        }
        // Every event becomes the current value, even an older one (contract
        // §2): after a corrected day, the newest value is sent again when
        // delivering (a later batch may still bring a newer one).
        let key = (equipment.clone(), logical_id.to_owned());
        match batch_newest.filter(|p| sent.stale && sent.until.as_ref() == Some(&p.label)) {
            Some(newest) => self.newest.borrow_mut().insert(key, (source.to_owned(), newest)),
            None if !sent.stale => self.newest.borrow_mut().remove(&key),
            None => None,
        };
        sent.days.retain(|day, _| *day >= window);
        self.keep(&equipment, logical_id, sent).await
    }

    /// Send again the newest point of each command a corrected older day
    /// left showing an older value.
    async fn restore_newest(&self) -> Result<()> {
        let newest = std::mem::take(&mut *self.newest.borrow_mut());
        for ((equipment, logical_id), (source, point)) in newest {
            let mut sent = self.equipments.borrow().get(&equipment).and_then(|e| e.ledger.get(&logical_id).cloned()).unwrap_or_default();
            let cmd = self.cmd_id(&equipment, &source, &logical_id).await?;
            self.client.event(&cmd, point.value, Some(&point.label)).await?;
            *self.written.borrow_mut() += 1;
            sent.stale = false;
            self.keep(&equipment, &logical_id, sent).await?;
        }
        Ok(())
    }

    /// Record what was sent of a command, durably.
    async fn keep(&self, equipment: &str, logical_id: &str, sent: Sent) -> Result<()> {
        let ledger = {
            let mut equipments = self.equipments.borrow_mut();
            let Some(eq) = equipments.get_mut(equipment) else { return Ok(()) };
            eq.ledger.insert(logical_id.to_owned(), sent);
            eq.ledger.clone()
        };
        save(self.store, &self.ledger_key(equipment), &ledger).await
    }

    /// A current value without a date: sent when it differs from the last one.
    async fn send_now(&self, source: &str, subject: &str, logical_id: &str, value: Value) -> Result<()> {
        let equipment = self.equipment(source, subject).await?;
        let mut sent = self.equipments.borrow().get(&equipment).and_then(|e| e.ledger.get(logical_id).cloned()).unwrap_or_default();
        if sent.last.as_ref() == Some(&value) {
            *self.unchanged.borrow_mut() += 1;
            return Ok(());
        }
        let cmd = self.cmd_id(&equipment, source, logical_id).await?;
        self.client.event(&cmd, value.clone(), None).await?;
        *self.written.borrow_mut() += 1;
        sent.last = Some(value);
        self.keep(&equipment, logical_id, sent).await
    }

    /// The points of every lane that are complete (all of them with `all`),
    /// sent; the rest stays pending.
    async fn flush(&self, all: bool) -> Result<()> {
        let zone = self.zone().await?;
        let mut batches: Vec<(String, String, String, Vec<Point>)> = Vec::new();
        {
            let mut lanes = self.lanes.borrow_mut();
            for lane in lanes.values_mut() {
                let latest = lane.latest;
                let ready = |closes_at: i64| all || closes_at <= latest;
                let curve: Vec<Point> = lane.curve.iter().filter(|p| ready(p.closes_at)).cloned().collect();
                lane.curve.retain(|p| !ready(p.closes_at));
                let mut totals = Vec::new();
                let (done, open): (Vec<Day>, Vec<Day>) = std::mem::take(&mut lane.days).into_iter().partition(|day| ready(day.next));
                lane.days = open;
                // A day with a hole gets no total.
                for day in done.into_iter().filter(|day| day.covered == day.next - day.midnight) {
                    let date = if lane.source == "linky" { paris_date(day.midnight * 1000) } else { zone.local(day.midnight * 1000).0 };
                    totals.push(Point { at_ms: day.midnight * 1000, label: format!("{date} 00:00:00"), value: rounded(day.kwh, 3), closes_at: day.next });
                }
                let daily = match (lane.source.as_str(), lane.channel.as_str()) {
                    ("linky", "production") => "daily_production",
                    ("linky", _) => "daily_consumption",
                    (_, "heat") => "daily_heat",
                    _ => "daily_electricity",
                };
                if !curve.is_empty() {
                    batches.push((lane.source.clone(), lane.subject.clone(), "consumption_load_curve".into(), curve));
                }
                batches.push((lane.source.clone(), lane.subject.clone(), daily.into(), totals));
            }
        }
        for (source, subject, cmd, points) in batches {
            self.send(&source, &subject, &cmd, points).await?;
        }
        Ok(())
    }

    /// Take one reading of a lane: the interval `[start, ts)` it closes.
    fn take(&self, lane: &mut Lane, zone: Zone, start: i64, ts: i64, kwh: f64) {
        lane.latest = lane.latest.max(start);
        let paris = lane.source == "linky";
        let day_zone = if paris { Zone::PARIS } else { zone };
        let date: Date = day_zone.local(start * 1000).0;
        let (midnight, next) = (day_zone.midnight_ms(date) / 1000, day_zone.midnight_ms(date.add_days(1)) / 1000);
        match lane.days.iter_mut().rev().find(|day| day.midnight == midnight) {
            Some(day) => {
                day.covered += ts - start;
                day.kwh += kwh;
            }
            None => lane.days.push(Day { midnight, next, covered: ts - start, kwh }),
        }
        if paris && lane.channel == "consumption" && ts - start < DAY / 2 {
            let label = zone.format_naive(start * 1000);
            let (local_date, _) = zone.local(start * 1000);
            let closes_at = zone.midnight_ms(local_date.add_days(1)) / 1000;
            let watts = kwh * 3_600_000.0 / (ts - start) as f64;
            lane.curve.push(Point { at_ms: start * 1000, label, value: rounded(watts, 1), closes_at });
        }
    }
}

impl<'a, H: HttpClient, S: Store, C: Clock> Sink for JeedomSink<'a, H, S, C> {
    fn name(&self) -> &'static str {
        "jeedom"
    }

    fn key(&self, source: &str, channel: &str) -> Option<String> {
        energy_key(source, channel)
    }

    fn subject_key(&self, source: &str, subject: Option<&str>, channel: &str) -> Option<String> {
        self.key(source, channel)?;
        let subject = subject?;
        let key = format!("{source}_{subject}_{channel}");
        let lane = Lane { source: source.into(), subject: subject.into(), channel: channel.into(), last_index: None, latest: i64::MIN, days: Vec::new(), curve: Vec::new() };
        self.lanes.borrow_mut().entry(key.clone()).or_insert(lane);
        Some(key)
    }

    /// Find or create the equipment (so a wrong key or a Jeedom that is down
    /// stops everything before a value is sent), then stream again from the
    /// correction window, or the start of the last day streamed.
    fn resume<'b>(&'b self, key: &'b str, stored: Option<Cursor>, _span: (i64, i64), _source: SourceData<'b>) -> Pending<'b, Option<Cursor>> {
        Box::pin(async move {
            self.zone().await?;
            let (source, subject) = {
                let lanes = self.lanes.borrow();
                let lane = lanes.get(key).ok_or_else(|| Error::invalid_input(format!("unknown Jeedom key {key}")))?;
                (lane.source.clone(), lane.subject.clone())
            };
            self.equipment(&source, &subject).await?;
            let Some(stored) = stored else { return Ok(None) };
            let today = paris_date(self.clock.now_ms());
            let window = today.add_days(-self.options.correction_days.max(0)).paris_midnight_ms() / 1000;
            let last_day = paris_date((stored.ts - 1) * 1000).paris_midnight_ms() / 1000;
            let ts = stored.ts.min(window).min(last_day);
            if let Some(lane) = self.lanes.borrow_mut().get_mut(key) {
                lane.last_index = Some(0.0);
            }
            Ok(Some(Cursor { ts, index: 0.0 }))
        })
    }

    fn queue<'b>(&'b self, rows: &'b [Row]) -> Pending<'b, usize> {
        Box::pin(async move {
            let zone = self.zone().await?;
            let mut taken = 0;
            {
                let mut lanes = self.lanes.borrow_mut();
                for row in rows {
                    for (key, value) in &row.values {
                        let Some(lane) = lanes.get_mut(key) else { continue };
                        if let Some((start, kwh)) = row.closed(key, *value, &mut lane.last_index) {
                            self.take(lane, zone, start, row.ts, kwh);
                            taken += 1;
                        }
                    }
                }
            }
            self.flush(false).await?;
            Ok(taken)
        })
    }

    fn deliver<'b>(&'b self, progress: &'b dyn Fn(u32, u32)) -> Pending<'b, Map<String, Value>> {
        Box::pin(async move {
            self.flush(true).await?;
            let current = (self.current)().await?;
            let zone = self.zone().await?;
            let total = current.len() as u32;
            // Dated values, per command, oldest first; then the others.
            let mut dated: Vec<(String, String, String, Vec<Point>)> = Vec::new();
            for (done, value) in current.into_iter().enumerate() {
                if spec(&value.source, &value.cmd, &self.options.currency).is_none() || value.value.is_null() {
                    continue;
                }
                match value.at_ms {
                    Some(at_ms) => {
                        let point = Point { at_ms, label: zone.format_naive(at_ms), value: value.value, closes_at: 0 };
                        match dated.iter_mut().find(|(source, subject, cmd, _)| (source, subject, cmd) == (&value.source, &value.subject, &value.cmd)) {
                            Some((.., points)) => points.push(point),
                            None => dated.push((value.source, value.subject, value.cmd, vec![point])),
                        }
                    }
                    None => self.send_now(&value.source, &value.subject, &value.cmd, value.value).await?,
                }
                progress(done as u32 + 1, total);
            }
            for (source, subject, cmd, points) in dated {
                self.send(&source, &subject, &cmd, points).await?;
            }
            self.restore_newest().await?;
            let mut equipments = Map::new();
            for (logical_id, eq) in self.equipments.borrow().iter() {
                let mut one = Map::new();
                one.insert("id".into(), eq.id.clone().map_or(Value::Null, Value::from));
                one.insert("name".into(), eq.name.clone().into());
                one.insert("created".into(), eq.created.into());
                one.insert("commands".into(), eq.cmds.keys().cloned().collect::<Vec<_>>().into());
                equipments.insert(logical_id.clone(), Value::Object(one));
            }
            let mut report = Map::new();
            report.insert("written".into(), (*self.written.borrow()).into());
            report.insert("unchanged".into(), (*self.unchanged.borrow()).into());
            report.insert("equipments".into(), Value::Object(equipments));
            report.insert("timezone".into(), zone.name.into());
            report.insert("calls".into(), self.client.calls().into());
            Ok(report)
        })
    }
}
