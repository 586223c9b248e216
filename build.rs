//! Links the `conform` binary as a position-dependent executable on Linux.
//!
//! A position-independent executable is relocated by the dynamic loader at every start: the
//! release binary holds about 23,000 relative relocations, and writing them copies about 200
//! pages of its data, each a page fault. That was a third of the time `conform --version`
//! takes (3.7 ms against 2.5 ms without), and the same stretch comes first in every replay's
//! start (bench/issue11.sh, figure 4; BENCHMARKS.md). Linked at a fixed address, the data is
//! read from the file as it stands. The cost: the binary's own code and data are not placed
//! at a random address (its libraries, stacks and heap still are). conform is a test tool
//! whose servers listen on loopback unless told otherwise; set `CONFORM_PIE=1` when building
//! to keep the usual position-independent binary.
//!
//! Only the binaries are linked so: the library, tests, benches, examples and proc-macros are
//! built as before.

fn main() {
    println!("cargo::rerun-if-env-changed=CONFORM_PIE");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let pie = std::env::var_os("CONFORM_PIE").is_some_and(|v| v != "0" && !v.is_empty());
    if linux && !pie {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
