//! Cross-process mutual exclusion on a lock file, so parallel test binaries can share caches.

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use anyhow::{Context, Result};

/// Runs `f` while holding an exclusive `flock` on `path` (created if missing).
///
/// The lock is tied to the open file, so it is released even if `f` panics or the process
/// dies, and a crashed test never wedges the others.
pub fn with_file_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let file: File = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    let result = f();
    // Dropping would release it too; unlocking explicitly surfaces errors and makes the
    // critical section's end obvious.
    file.unlock()
        .with_context(|| format!("unlocking {}", path.display()))?;
    result
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn holders_never_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("sub/x.lock");
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (lock, inside) = (lock.clone(), inside.clone());
                // Each thread opens its own file description, which is what flock
                // arbitrates between, just like separate processes.
                std::thread::spawn(move || {
                    with_file_lock(&lock, || {
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        std::thread::sleep(Duration::from_millis(20));
                        inside.fetch_sub(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }
}
