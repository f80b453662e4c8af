//! Composing MxOS trees: a package backend installs a Plan into a fresh root, postprocess
//! makes it OSTree-ready, overlays are laid on top, and the result is committed and signed.

pub mod apt;
pub mod dnf;
pub mod layers;
pub mod metadata;
pub mod overlay;
mod pipeline;
mod pkgcache;
pub mod postprocess;
mod rpmfiles;
mod selinux;
mod support;

pub use dnf::LockMode;
pub use metadata::{KEY_INPUTHASH, KEY_LOCKFILE, KEY_PACKAGES, KEY_TREEFILE};
pub use pipeline::{compose, CacheUse, ComposeRequest, Outcome};
