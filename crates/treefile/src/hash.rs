//! The blake3 input hash over a plan and whatever else the caller says can change the result.

use std::fmt;

use crate::plan::Plan;

/// Bumped whenever the hashed framing changes, so old hashes never match new ones.
const DOMAIN: &str = "mxos-treefile input hash v1";

pub struct InputHasher {
    hasher: blake3::Hasher,
}

impl InputHasher {
    pub fn new(plan: &Plan) -> Self {
        let mut hasher = blake3::Hasher::new();
        hasher.update(DOMAIN.as_bytes());
        let mut this = InputHasher { hasher };
        this.add("plan", plan.canonical_json().as_bytes());
        this
    }

    /// Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    pub fn add(&mut self, label: &str, bytes: &[u8]) {
        self.hasher.update(&(label.len() as u64).to_le_bytes());
        self.hasher.update(label.as_bytes());
        self.hasher.update(&(bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    pub fn finish(self) -> InputHash {
        InputHash(self.hasher.finalize().to_hex().to_string())
    }
}

/// Lowercase hex blake3 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputHash(pub String);

impl fmt::Display for InputHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
