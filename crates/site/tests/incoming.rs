//! A question that reaches a site although the hub should have refused it (another hub
//! version, a hub bypassed) is read on its own: the site keeps the reason to answer with, and
//! the other tasks of the same poll are read as usual.

use chrono::{Duration, Utc};
use kakehashi_federation::surveillance::SurveillanceRequest;
use kakehashi_federation::{IncomingPoll, PollResponse, Task, TaskError, TaskSpec};
use kakehashi_model::{ProjectId, TaskId};
use serde_json::{Value, json};

fn task(id: &str) -> Task {
    Task {
        id: TaskId::new(id).unwrap(),
        project: ProjectId::new("p1").unwrap(),
        requested_by: "r".into(),
        created: Utc::now(),
        deadline: Utc::now() + Duration::seconds(60),
        spec: TaskSpec::SurveillanceSeries(SurveillanceRequest::of("sari-who").unwrap()),
    }
}

#[test]
fn a_bad_question_in_a_poll_is_kept_as_its_reason_and_the_others_are_read() {
    // the poll as a hub sends it, then each bad task's question edited as another hub might
    let poll = PollResponse {
        tasks: (0..6).map(|i| task(&format!("t{i}"))).collect(),
        hub_head: None,
    };
    let mut v: Value = serde_json::to_value(&poll).unwrap();
    let tasks = v["tasks"].as_array_mut().unwrap();
    tasks[1]["spec"]["schema_version"] = json!(2);
    tasks[2]["spec"]["colour"] = json!("red");
    tasks[3]["spec"] = json!({"type": "antibiogram", "schema_version": 1,
        "spec": {"guideline": "EUCAST 2025", "antimicrobials": vec!["MEM"; 10_000]}});
    tasks[4]["spec"]["to"] = json!("9999-W01");
    tasks[5]["spec"] = json!({"type": "crystal_ball", "schema_version": 1});
    let read: IncomingPoll = serde_json::from_value(v).unwrap();
    let specs: Vec<&Result<TaskSpec, TaskError>> = read.tasks.iter().map(|t| &t.spec).collect();
    assert_eq!(specs[0].as_ref().unwrap(), &poll.tasks[0].spec);
    let reason = |i: usize| specs[i].as_ref().unwrap_err().to_string();
    assert_eq!(
        reason(1),
        "spec.schema_version: unsupported task version 2 (this site supports 1)"
    );
    assert!(reason(2).starts_with("spec.colour:"), "{}", reason(2));
    assert!(
        reason(3)
            .starts_with("spec.spec.antimicrobials: 10000 entries; a task may list at most 1000"),
        "{}",
        reason(3)
    );
    assert!(reason(4).starts_with("spec.to:"), "{}", reason(4));
    assert!(
        reason(5).contains("unknown task type \"crystal_ball\" (this site answers"),
        "{}",
        reason(5)
    );
    // the task's id and project survive, so the site can answer it
    assert_eq!(read.tasks[1].id.as_str(), "t1");
}
