// A site's true counts (a `CountTable`) cannot be put into an outgoing answer: the answer takes
// only a table released by the gate.
use kakehashi_disclosure::CountTable;
use kakehashi_federation::{AnswerOut, OutcomeOut};
use kakehashi_model::{SiteId, TaskId};

fn main() {
    let raw = CountTable::scalar("patients", 3);
    let task = TaskId::new("t1").unwrap();
    let site = SiteId::new("de-berlin").unwrap();
    let _answer = AnswerOut {
        task: &task,
        site: &site,
        snapshot: None,
        elapsed_ms: 0,
        audit_head: "",
        outcome: OutcomeOut::Answered {
            table: &raw,
            notes: &[],
            denominator: None,
        },
    };
}
