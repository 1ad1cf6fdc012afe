// Outside the gate no one can make a `Released` table: it has no public constructor.
use kakehashi_disclosure::{GatedTable, Released};

fn forge(t: GatedTable) -> Released<GatedTable> {
    Released(t)
}

fn main() {}
