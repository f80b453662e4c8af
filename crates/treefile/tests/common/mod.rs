//! Shared helpers for the treefile integration tests.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

pub fn load_err(path: &Path) -> String {
    mxos_treefile::load(path, "x86_64").unwrap_err().to_string()
}

pub fn str_err(text: &str) -> String {
    mxos_treefile::load_str("t.yaml", text, "x86_64")
        .unwrap_err()
        .to_string()
}
