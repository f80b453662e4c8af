//! `mxos-update`: the device's update tool.
fn main() -> std::process::ExitCode {
    mxos_cli::update::main()
}
