//! Composing MxOS trees: a package backend installs a Plan into a fresh root, postprocess
//! makes it OSTree-ready, overlays are laid on top, and the result is committed and signed.

pub mod apt;
pub mod dnf;
pub mod overlay;
mod pipeline;
mod pkgcache;
pub mod postprocess;
mod rpmfiles;

pub use pipeline::{
    compose, CacheUse, ComposeRequest, Outcome, KEY_INPUTHASH, KEY_PACKAGES, KEY_TREEFILE,
};
