//! The release path for exact aggregates (DataSHIELD-class statistics): sums and counts
//! without noise, under the statistics rules (`docs/privacy.md`, "Exact statistics").
//!
//! The statistics themselves live in a domain crate the gate does not know; they come to the
//! gate as an [`ExactAggregate`], which says how many numbers it releases and re-checks the
//! rules it shows by itself against the site's minimum. The gate decides in this order: the
//! project must be answered and listed for statistics (`Policy::statistics`), so a project
//! without that right learns nothing, not even which rule would refuse; then the rule the
//! site's computation met, if any; then the aggregate's own check; then the per-task and
//! daily cell limits, recorded in the ledger (ε 0: nothing is spent from the budgets, which
//! cover noisy counts only).

use super::{Gate, Question, Refusal};
use crate::ledger::{Charge, Limits};
use crate::table::Released;

/// A statistics rule that refuses an answer: its code and the reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatisticsRule {
    /// The rule's code (`too_few_rows`, `separation`, `small_cell`, ...).
    pub rule: String,
    /// The reason, for the researcher.
    pub message: String,
}

/// An exact aggregate a site may release through [`Gate::release_exact`].
pub trait ExactAggregate: serde::Serialize {
    /// The numbers it releases (counted against `max_cells` and `cells_per_day`).
    fn cells(&self) -> u64;
    /// Checks the rules the aggregate shows by itself against the site's minimum `min`.
    fn check(&self, min: u64) -> Result<(), StatisticsRule>;
}

impl Gate {
    /// Releases an exact aggregate, or refuses: the project not answered or not listed for
    /// statistics; the rule the computation met (`computed` is `Err`); the aggregate's own
    /// check against the policy's `min_count`; the per-task and daily cell limits.
    pub fn release_exact<T: ExactAggregate>(
        &self,
        q: &Question<'_>,
        computed: Result<T, StatisticsRule>,
    ) -> Result<Released<T>, Refusal> {
        let p = &self.policy;
        if !p.allows(q.project) {
            return Err(Refusal::ProjectNotAllowed {
                project: q.project.to_string(),
            });
        }
        if !p.allows_statistics(q.project) {
            return Err(Refusal::StatisticsNotAllowed {
                project: q.project.to_string(),
            });
        }
        let rule = |r: StatisticsRule| Refusal::Statistics {
            rule: r.rule,
            message: r.message,
        };
        let value = computed.map_err(rule)?;
        value.check(p.min_count).map_err(rule)?;
        let cells = value.cells();
        if cells > p.max_cells {
            return Err(Refusal::TooManyCells {
                cells,
                limit: p.max_cells,
            });
        }
        let spend = self.ledger.record(
            &Charge {
                project: q.project.as_str(),
                researcher: q.researcher,
                question: q.key.as_str(),
                snapshot: q.key.snapshot(),
                eps_milli: 0,
                cells,
            },
            &Limits {
                project_milli: p.budget_milli(),
                researcher_milli: p.researcher_budget_milli(),
                cells_per_day: p.cells_per_day,
            },
        )?;
        tracing::info!(project = %q.project, researcher = q.researcher, question = &q.key.as_str()[..12], snapshot = q.key.snapshot(), repeated = spend.repeated, cells, "released exact statistics");
        Ok(Released(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryLedger, Policy, RepeatKey};
    use kakehashi_model::ProjectId;

    #[derive(Debug, serde::Serialize)]
    struct Sum {
        n: u64,
    }

    impl ExactAggregate for Sum {
        fn cells(&self) -> u64 {
            1
        }
        fn check(&self, min: u64) -> Result<(), StatisticsRule> {
            if self.n < min {
                return Err(StatisticsRule {
                    rule: "too_few_rows".into(),
                    message: format!("{} rows", self.n),
                });
            }
            Ok(())
        }
    }

    fn gate(statistics: &[&str]) -> Gate {
        Gate::new(
            Policy {
                projects: vec!["*".into()],
                statistics: statistics.iter().map(|s| s.to_string()).collect(),
                min_count: 5,
                ..Policy::default()
            },
            [1; 32],
            Box::new(MemoryLedger::new()),
        )
        .unwrap()
    }

    #[test]
    fn exact_release_needs_the_project_listed_and_every_rule_met() {
        let (a, b) = (ProjectId::new("a").unwrap(), ProjectId::new("b").unwrap());
        let key = RepeatKey::of_data("stats", "1");
        let q = |project| Question {
            project,
            researcher: "r",
            key: &key,
            sensitivity: 1,
        };
        let g = gate(&["a"]);
        assert_eq!(
            g.release_exact(&q(&a), Ok(Sum { n: 7 })).unwrap().get().n,
            7
        );
        // another project: refused before the rule is even looked at
        assert_eq!(
            g.release_exact(
                &q(&b),
                Err::<Sum, _>(StatisticsRule {
                    rule: "separation".into(),
                    message: "m".into()
                })
            )
            .unwrap_err(),
            Refusal::StatisticsNotAllowed {
                project: "b".into()
            }
        );
        // the computation's rule is passed on with its code
        let r = g
            .release_exact(
                &q(&a),
                Err::<Sum, _>(StatisticsRule {
                    rule: "separation".into(),
                    message: "separation: ...".into(),
                }),
            )
            .unwrap_err();
        assert_eq!(
            r,
            Refusal::Statistics {
                rule: "separation".into(),
                message: "separation: ...".into()
            }
        );
        // an aggregate that breaks its own check against the site's minimum never leaves
        let r = g.release_exact(&q(&a), Ok(Sum { n: 4 })).unwrap_err();
        assert!(matches!(r, Refusal::Statistics { ref rule, .. } if rule == "too_few_rows"));
        // nothing listed: no statistics at all
        assert!(matches!(
            gate(&[]).release_exact(&q(&a), Ok(Sum { n: 7 })),
            Err(Refusal::StatisticsNotAllowed { .. })
        ));
        assert!(gate(&["*"]).release_exact(&q(&b), Ok(Sum { n: 7 })).is_ok());
    }
}
