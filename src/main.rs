//! The `conform` binary: a thin layer over the library. Only `cli` knows clap, colour and
//! exit codes.

mod cli;

// conform allocates many small values (parsed YAML and JSON, keys, headers) on every core;
// mimalloc does that at a fraction of glibc malloc's cost (bench/issue11.sh, BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
