//! Install media: bootable disk images of a commit, ready to copy onto a machine. They are
//! not publishing (nothing here is served to devices), so they live apart from `publish`.

pub mod disk;
mod esp;
pub mod layout;
