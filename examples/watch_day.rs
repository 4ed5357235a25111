//! For `npm run bench`: a day of `weheat watch` in virtual time against the
//! fake Weheat of the tests (which enforces the 30-per-hour budget). Prints
//! JSON: requests in the day, the busiest hour, refusals, and the polls.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;
use support::run;
use support::weheat_fake::rig;

fn main() {
    let r = rig();
    let pump = run(r.weheat.default_pump()).expect("the fake lists a pump");
    run(r.weheat.watch(&pump, 300, Some(Duration::from_secs(24 * 3600)), |_| {})).expect("a day of watch");
    let fake = r.fake.borrow();
    let busiest = fake.log.iter().map(|(at, _, _)| fake.log.iter().filter(|(t, _, _)| *t > at - 3_600_000 && t <= at).count()).max().unwrap_or(0);
    let refused = fake.log.iter().filter(|(_, _, status)| *status == 429).count();
    let latest = fake.log.iter().filter(|(_, path, _)| path.ends_with("/logs/latest")).count();
    let energy = fake.log.iter().filter(|(_, path, _)| path.starts_with("energy-logs/")).count();
    println!(
        r#"{{"requests":{},"budgetPerHour":30,"busiestHour":{busiest},"refused":{refused},"latestPolls":{latest},"energyRequests":{energy}}}"#,
        fake.log.len()
    );
}
