//! `httplab`: see `httplab --help`, and the `bench` crate's docs.

fn main() -> std::process::ExitCode {
    bench::cli::main()
}
