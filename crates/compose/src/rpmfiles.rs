//! What rpm's database says each package file should be, turned into the changes a root
//! assembled from the package cache needs: files rpm would not have installed (docs under
//! `documentation: false`, other architectures' colours) go, and files rpm gives to another
//! user or group get that owner. Pure: parses `rpm -qa` output.

use std::collections::{BTreeMap, BTreeSet};

/// The `rpm -qa --qf` format [`file_fixups`] reads.
pub const QUERY_FORMAT: &str =
    "[%{FILESTATES:fstate}\\t%{FILEUSERNAME}\\t%{FILEGROUPNAME}\\t%{FILENAMES}\\n]";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileFixups {
    /// Absolute paths, deepest first, so directories come after what they held.
    pub remove: Vec<String>,
    /// (absolute path, user name, group name) for entries not owned by root:root.
    pub owners: Vec<(String, String, String)>,
}

/// Reads [`QUERY_FORMAT`] lines. A path one package installs and another skips stays.
pub fn file_fixups(query_output: &str) -> FileFixups {
    let mut installed = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    let mut owners = BTreeMap::new();
    for line in query_output.lines() {
        let mut f = line.splitn(4, '\t');
        let (Some(state), Some(user), Some(group), Some(path)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        match state {
            "normal" | "replaced" | "net shared" => {
                installed.insert(path.to_owned());
                if user != "root" || group != "root" {
                    owners.insert(path.to_owned(), (user.to_owned(), group.to_owned()));
                }
            }
            "not installed" | "wrong color" => {
                skipped.insert(path.to_owned());
            }
            _ => {}
        }
    }
    let mut remove: Vec<String> = skipped.difference(&installed).cloned().collect();
    remove.sort_by(|a, b| {
        b.matches('/')
            .count()
            .cmp(&a.matches('/').count())
            .then(a.cmp(b))
    });
    FileFixups {
        remove,
        owners: owners.into_iter().map(|(p, (u, g))| (p, u, g)).collect(),
    }
}

/// `name → id` from an `/etc/passwd` or `/etc/group` text.
pub fn ids_by_name(text: &str) -> BTreeMap<String, u32> {
    crate::postprocess::transforms::id_names(text)
        .into_iter()
        .map(|(id, name)| (name, id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_docs_go_unless_another_package_installs_them() {
        let out = "normal\troot\troot\t/usr/bin/tool\n\
                   not installed\troot\troot\t/usr/share/doc/tool\n\
                   not installed\troot\troot\t/usr/share/doc/tool/README\n\
                   not installed\troot\troot\t/usr/share/licenses/x\n\
                   normal\troot\troot\t/usr/share/licenses/x\n\
                   wrong color\troot\troot\t/usr/lib/i386/lib.so\n\
                   normal\tapache\tapache\t/var/lib/httpd\n\
                   normal\troot\tmail\t/usr/bin/mailx\n\
                   not installed\tnobody\tnobody\t/usr/share/doc/skipped-owned\n";
        let f = file_fixups(out);
        assert_eq!(
            f.remove,
            vec![
                "/usr/share/doc/tool/README",
                "/usr/lib/i386/lib.so",
                "/usr/share/doc/skipped-owned",
                "/usr/share/doc/tool",
            ]
        );
        assert_eq!(
            f.owners,
            vec![
                ("/usr/bin/mailx".into(), "root".into(), "mail".into()),
                ("/var/lib/httpd".into(), "apache".into(), "apache".into()),
            ]
        );
    }

    #[test]
    fn names_map_to_ids() {
        let ids = ids_by_name("root:x:0:0::/root:/bin/sh\napache:x:48:48::/:/sbin/nologin\n");
        assert_eq!(ids.get("apache"), Some(&48));
        assert_eq!(ids.get("root"), Some(&0));
        assert_eq!(ids.get("nobody"), None);
    }
}
