//! `mxos-compose`: the image maintainer's tool.
fn main() -> std::process::ExitCode {
    mxos_cli::compose::main()
}
