// A note is one of the typed codes, never free text (which could carry a code's presence at the
// site or an exact count).
use kakehashi_federation::OutcomeOut;

fn note_for<'a>(table: &'a kakehashi_disclosure::Released<kakehashi_disclosure::GatedTable>) -> OutcomeOut<'a> {
    OutcomeOut::Answered {
        table,
        notes: &["no data at this site for J18.0".to_owned()],
        denominator: None,
    }
}

fn main() {}
