//! Install media: bootable disk images of a commit, ready to copy onto a machine, and the
//! USB installer that writes the same system onto each machine of a lab. They are not
//! publishing (nothing here is served to devices), so they live apart from `publish`.

pub mod boot;
pub mod disk;
mod esp;
pub mod install;
pub mod installer;
pub mod layout;
pub mod system;
