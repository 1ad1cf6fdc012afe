//! The CPU features this build was compiled to use, checked before anything else runs.
//!
//! The default build runs on any x86-64 CPU and checks nothing. A site may build for its
//! servers' CPU level, e.g. `RUSTFLAGS="-C target-cpu=x86-64-v3" cargo build --release` (AVX2,
//! BMI1/2, FMA, LZCNT, MOVBE, F16C: about 4% less CPU for ingest, see BENCHMARKS.md). Such a
//! binary, copied to an older CPU, would die of an illegal instruction somewhere in the middle
//! of a load; instead it stops at start, names what the CPU lacks and says how to build one
//! that runs there.

/// The registers of the CPUID leaves the check reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpuid {
    /// Leaf 1, ECX: FMA, MOVBE, OSXSAVE, AVX, F16C.
    pub leaf1_ecx: u32,
    /// Leaf 7 (sub-leaf 0), EBX: BMI1, AVX2, BMI2.
    pub leaf7_ebx: u32,
    /// Leaf 0x8000_0001, ECX: LZCNT.
    pub ext1_ecx: u32,
}

/// A feature a build may assume.
struct Feature {
    name: &'static str,
    /// This build was compiled to use it.
    used: bool,
    /// Where CPUID reports it: the register, and the bit in it.
    reg: fn(&Cpuid) -> u32,
    bit: u32,
}

fn features() -> [Feature; 9] {
    let f = |name, used, reg, bit| Feature {
        name,
        used,
        reg,
        bit,
    };
    [
        f(
            "avx",
            cfg!(target_feature = "avx"),
            |c: &Cpuid| c.leaf1_ecx,
            28,
        ),
        // the operating system saves the AVX registers (XSAVE enabled by it)
        f(
            "osxsave",
            cfg!(target_feature = "avx"),
            |c: &Cpuid| c.leaf1_ecx,
            27,
        ),
        f(
            "avx2",
            cfg!(target_feature = "avx2"),
            |c: &Cpuid| c.leaf7_ebx,
            5,
        ),
        f(
            "bmi1",
            cfg!(target_feature = "bmi1"),
            |c: &Cpuid| c.leaf7_ebx,
            3,
        ),
        f(
            "bmi2",
            cfg!(target_feature = "bmi2"),
            |c: &Cpuid| c.leaf7_ebx,
            8,
        ),
        f(
            "fma",
            cfg!(target_feature = "fma"),
            |c: &Cpuid| c.leaf1_ecx,
            12,
        ),
        f(
            "movbe",
            cfg!(target_feature = "movbe"),
            |c: &Cpuid| c.leaf1_ecx,
            22,
        ),
        f(
            "f16c",
            cfg!(target_feature = "f16c"),
            |c: &Cpuid| c.leaf1_ecx,
            29,
        ),
        f(
            "lzcnt",
            cfg!(target_feature = "lzcnt"),
            |c: &Cpuid| c.ext1_ecx,
            5,
        ),
    ]
}

/// The features this build uses that a CPU reporting `id` lacks.
pub fn missing(id: &Cpuid) -> Vec<&'static str> {
    lacks(id, false)
}

/// The features a CPU reporting `id` lacks: of those this build uses, or (`every`) of all.
fn lacks(id: &Cpuid, every: bool) -> Vec<&'static str> {
    features()
        .into_iter()
        .filter(|f| (every || f.used) && ((f.reg)(id) >> f.bit) & 1 == 0)
        .map(|f| f.name)
        .collect()
}

/// What this machine's CPU reports.
#[cfg(target_arch = "x86_64")]
fn this_cpu() -> Cpuid {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    let max = __cpuid(0).eax;
    let max_ext = __cpuid(0x8000_0000).eax;
    Cpuid {
        leaf1_ecx: if max >= 1 { __cpuid(1).ecx } else { 0 },
        leaf7_ebx: if max >= 7 { __cpuid_count(7, 0).ebx } else { 0 },
        ext1_ecx: if max_ext >= 0x8000_0001 {
            __cpuid(0x8000_0001).ecx
        } else {
            0
        },
    }
}

/// Why this binary cannot run on this CPU, if it cannot.
pub fn check() -> Result<(), String> {
    #[cfg(target_arch = "x86_64")]
    {
        let lacks = missing(&this_cpu());
        if !lacks.is_empty() {
            let used: Vec<&str> = features()
                .into_iter()
                .filter(|f| f.used)
                .map(|f| f.name)
                .collect();
            let used = used.join(", ");
            return Err(format!(
                "this kakehashi binary was built for newer CPUs (it uses {used}), and this CPU lacks {} \
                 (or the hypervisor hides it).\n  Build one for any x86-64 CPU with: RUSTFLAGS= cargo build --release",
                lacks.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each feature is read from its own CPUID bit: a CPU that reports none lacks all, one
    /// without only the AVX2 bit (or only the operating system's XSAVE bit) lacks that one alone,
    /// and one that reports all lacks none. The machine running the tests runs this build, so
    /// it has whatever the build uses.
    #[test]
    fn a_cpu_is_refused_for_exactly_the_features_it_lacks() {
        let names: Vec<&str> = features().into_iter().map(|f| f.name).collect();
        assert_eq!(lacks(&Cpuid::default(), true), names);
        let all = Cpuid {
            leaf1_ecx: u32::MAX,
            leaf7_ebx: u32::MAX,
            ext1_ecx: u32::MAX,
        };
        assert!(lacks(&all, true).is_empty());
        assert_eq!(
            lacks(
                &Cpuid {
                    leaf7_ebx: !(1 << 5),
                    ..all
                },
                true
            ),
            ["avx2"]
        );
        assert_eq!(
            lacks(
                &Cpuid {
                    leaf1_ecx: !(1 << 27),
                    ..all
                },
                true
            ),
            ["osxsave"]
        );
        assert_eq!(
            lacks(
                &Cpuid {
                    ext1_ecx: !(1 << 5),
                    ..all
                },
                true
            ),
            ["lzcnt"]
        );
        // a build for the x86-64 baseline assumes none of them
        let used: Vec<&str> = features()
            .into_iter()
            .filter(|f| f.used)
            .map(|f| f.name)
            .collect();
        assert_eq!(missing(&Cpuid::default()), used);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(missing(&this_cpu()), Vec::<&str>::new());
    }
}
