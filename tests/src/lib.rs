//! Test support for the MxOS workspace: real RPMs, the demo package set, a loopback nginx.
//!
//! Everything here shells out to the real tools (rpmbuild, createrepo_c, nginx) so the
//! crates under test see the same artefacts they will see in production.

pub mod bulk;
pub mod cmd;
pub mod debs;
pub mod demo;
pub mod lock;
pub mod nginx;
pub mod registry;
pub mod rpms;
pub mod signing;
pub mod tools;

pub use bulk::bulk_packages;
pub use cmd::run;
pub use demo::{build_demo_repo, demo_packages, shared_demo_repo};
pub use lock::with_file_lock;
pub use nginx::Nginx;
pub use registry::Registry;
pub use rpms::{build_repo, build_signed_repo, index_repo, FileEntry, PackageSpec};
pub use signing::Signer;
pub use tools::shared_tools_repo;
