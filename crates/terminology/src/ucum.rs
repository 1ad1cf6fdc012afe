//! UCUM unit conversion for the units laboratory criteria use: a value filter in one unit
//! matches results recorded in another when the two convert exactly.

/// A unit as (dimension, factor to the dimension's base, offset).
fn unit(code: &str) -> Option<(&'static str, f64, f64)> {
    Some(match code.trim() {
        // mass concentration, base g/L
        "g/L" => ("mass-conc", 1.0, 0.0),
        "g/dL" => ("mass-conc", 10.0, 0.0),
        "mg/dL" => ("mass-conc", 0.01, 0.0),
        "mg/L" => ("mass-conc", 0.001, 0.0),
        "ug/mL" => ("mass-conc", 0.001, 0.0),
        "ug/L" => ("mass-conc", 1e-6, 0.0),
        "ng/mL" => ("mass-conc", 1e-6, 0.0),
        // number concentration, base 1/L
        "/L" => ("num-conc", 1.0, 0.0),
        "10*9/L" | "10^9/L" | "G/L" => ("num-conc", 1e9, 0.0),
        "10*12/L" | "T/L" => ("num-conc", 1e12, 0.0),
        "/uL" | "/mm3" => ("num-conc", 1e6, 0.0),
        // the MII laboratory module writes cell counts per nanolitre and picolitre
        "/nL" => ("num-conc", 1e9, 0.0),
        "/pL" => ("num-conc", 1e12, 0.0),
        "10*3/uL" | "10^3/uL" | "10*3/mm3" => ("num-conc", 1e9, 0.0),
        "10*4/uL" => ("num-conc", 1e10, 0.0),
        "10*6/uL" => ("num-conc", 1e12, 0.0),
        // substance concentration, base mol/L
        "mol/L" => ("subst-conc", 1.0, 0.0),
        "mmol/L" => ("subst-conc", 1e-3, 0.0),
        "umol/L" => ("subst-conc", 1e-6, 0.0),
        // temperature, base K
        "K" => ("temperature", 1.0, 0.0),
        "Cel" => ("temperature", 1.0, 273.15),
        "[degF]" => ("temperature", 5.0 / 9.0, 459.67 * 5.0 / 9.0),
        // time, base s
        "s" => ("time", 1.0, 0.0),
        "min" => ("time", 60.0, 0.0),
        "h" => ("time", 3600.0, 0.0),
        "d" => ("time", 86400.0, 0.0),
        "wk" => ("time", 604800.0, 0.0),
        "mo" => ("time", 2_629_800.0, 0.0),
        "a" => ("time", 31_557_600.0, 0.0),
        // ratios
        "%" => ("ratio", 0.01, 0.0),
        "1" => ("ratio", 1.0, 0.0),
        "mm[Hg]" => ("pressure", 133.322, 0.0),
        // catalytic concentration (enzymes: ALT, AST, CK, LDH), base U/L; an international
        // unit is one µmol/min, the same as U
        "U/L" | "IU/L" | "[IU]/L" => ("catalytic-conc", 1.0, 0.0),
        "ukat/L" => ("catalytic-conc", 60.0, 0.0),
        "kPa" => ("pressure", 1000.0, 0.0),
        "kg" => ("mass", 1000.0, 0.0),
        "g" => ("mass", 1.0, 0.0),
        _ => return None,
    })
}

/// Converts `value` from UCUM unit `from` to `to`; `None` when either is unknown or their
/// dimensions differ. Identical codes convert without knowing the unit.
pub fn convert(value: f64, from: &str, to: &str) -> Option<f64> {
    if from.trim() == to.trim() {
        return Some(value);
    }
    let (d1, f1, o1) = unit(from)?;
    let (d2, f2, o2) = unit(to)?;
    (d1 == d2).then(|| (value * f1 + o1 - o2) / f2)
}

#[cfg(test)]
mod tests {
    use super::convert;

    #[test]
    fn units_convert_within_a_dimension_only() {
        assert_eq!(convert(5.0, "mg/dL", "mg/L"), Some(50.0));
        assert_eq!(convert(150.0, "10*3/uL", "10*9/L"), Some(150.0));
        assert_eq!(convert(355.0, "/nL", "10*9/L"), Some(355.0));
        assert_eq!(convert(45.0, "IU/L", "U/L"), Some(45.0));
        assert_eq!(convert(45.0, "U/L", "10*9/L"), None);
        assert!((convert(38.0, "Cel", "[degF]").unwrap() - 100.4).abs() < 1e-9);
        assert_eq!(convert(1.0, "mg/L", "mmol/L"), None);
        assert_eq!(convert(1.0, "xyz", "xyz"), Some(1.0));
        assert_eq!(convert(1.0, "xyz", "mg/L"), None);
    }
}
