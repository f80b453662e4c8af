//! The two binaries' argument parsing and printing; all work happens in the library crates.

pub mod compose;
pub mod container;
pub mod disk;
pub mod fleet;
pub mod update;

/// Prints an error with its whole chain, one cause per line, the way people read it.
pub fn report(err: &anyhow::Error) {
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
