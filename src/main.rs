//! The `conform` binary: a thin layer over the library. Only `cli` knows clap, colour and
//! exit codes.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
