//! The one boundary to libostree: repositories, commits, layers, refs, metadata, signatures
//! in detached metadata, pulls, summaries, GPG through libostree and sysroot deployments.
//!
//! Every other crate talks OSTree through the types here, so that libostree's GObject API,
//! GVariant encodings and version quirks (Debian's libostree 2022.7) stay in one place.

mod checkout;
mod collection;
mod commit;
mod container;
mod deltas;
mod gpg;
mod meta;
mod parallel;
mod pull;
mod repository;
mod selinux;
mod signatures;
mod step;
mod summary;
mod sysroot;

pub use checkout::{CommitReport, KnownInodes};
pub use collection::{
    check_collection_id, Bindings, DEFAULT_COLLECTION_ID, KEY_COLLECTION_BINDING, KEY_REF_BINDING,
    METADATA_REF,
};
pub use commit::{CommitRequest, LayerCommit, KEY_SELINUX_POLICY};
pub use container::{
    check_procfs, explain_procfs, Component, ContentMap, EncapsulateOptions, TreeFile,
    CHANGES_EVERY_BUILD, PROCFS_HINT,
};
pub use deltas::{delta_index_path, delta_part_checksums, sha256_hex, StaticDelta};
pub use gpg::{GpgKey, GPG_METADATA_KEY};
pub use meta::{CommitInfo, MetaValue};
pub use pull::PullOptions;
pub use repository::{newer_than, Repo, RepoMode};
pub use selinux::{
    context_path, label_entries_on_disk, label_on_disk, tree_policy, LabelVersion, Labelling,
    PolicyId,
};
pub use signatures::{decode_signature_file, encode_signature_file, replace_in_signature_file};
pub use step::{Step, SysrootRefusal};
pub use summary::{parse_summary, FetchedSummary, SummaryInfo, EXPIRES_KEY, LAST_MODIFIED_KEY};
pub use sysroot::{Deployment, Sysroot};

pub(crate) fn gerr(e: ostree::glib::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message())
}
