//! The installed machine's name from the stick's pattern, e.g. `lab3-{serial}` → `lab3-mx0042`:
//! what a school labels its machines by, made a valid host name (RFC 1123: lower-case
//! letters, digits and inner hyphens, at most 63 characters).

use mxos_agent::i18n::Text;
use mxos_agent::t;

/// What the pattern can name.
pub const PLACEHOLDERS: [&str; 2] = ["{serial}", "{mac}"];

/// What the machine says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineFacts {
    /// The firmware's serial number (`/sys/class/dmi/id/product_serial`).
    pub serial: Option<String>,
    /// The first network card's address, e.g. `52:54:00:12:34:56`.
    pub mac: Option<String>,
}

/// Checks a pattern when the stick is made, so a typo is found at the desk, not in the lab.
pub fn check_pattern(pattern: &str) -> Result<(), Text> {
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c + 1)
            .unwrap_or(rest.len());
        let found = &rest[open..close];
        if !PLACEHOLDERS.contains(&found) {
            return Err(t!(
                "install-hostname-placeholder",
                pattern = pattern,
                found = found,
                accepted = PLACEHOLDERS.join(", ")
            ));
        }
        rest = &rest[close..];
    }
    if sanitize(&pattern.replace("{serial}", "x").replace("{mac}", "x")).is_empty() {
        return Err(t!("install-hostname-empty", pattern = pattern));
    }
    Ok(())
}

/// Serial numbers that firmware writers leave in place of a real one.
const NOT_A_SERIAL: [&str; 6] = [
    "",
    "0",
    "to be filled by o.e.m.",
    "default string",
    "system serial number",
    "not specified",
];

/// The host name for this machine. A serial the firmware does not really have falls back on
/// the network card's address, which every machine of a lab has and no two share.
pub fn hostname(pattern: &str, facts: &MachineFacts) -> Result<String, Text> {
    check_pattern(pattern)?;
    let serial = facts
        .serial
        .as_deref()
        .map(str::trim)
        .filter(|s| !NOT_A_SERIAL.contains(&s.to_lowercase().as_str()));
    let mac = facts.mac.as_deref().map(|m| m.replace(':', ""));
    let mut name = pattern.to_owned();
    if name.contains("{serial}") {
        let Some(value) = serial.map(str::to_owned).or_else(|| mac.clone()) else {
            return Err(t!("install-hostname-no-serial", pattern = pattern));
        };
        name = name.replace("{serial}", &value);
    }
    if name.contains("{mac}") {
        let Some(value) = &mac else {
            return Err(t!("install-hostname-no-serial", pattern = pattern));
        };
        name = name.replace("{mac}", value);
    }
    Ok(sanitize(&name))
}

fn sanitize(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (out.is_empty() || out.ends_with('-'))) {
            out.push(c);
        }
    }
    let mut out: String = out.chars().take(63).collect();
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxos_agent::i18n::Lang;

    fn facts(serial: Option<&str>, mac: Option<&str>) -> MachineFacts {
        MachineFacts {
            serial: serial.map(Into::into),
            mac: mac.map(Into::into),
        }
    }

    #[test]
    fn the_pattern_takes_the_serial_or_else_the_mac() {
        let f = facts(Some("MX 0042/B"), Some("52:54:00:12:34:56"));
        assert_eq!(hostname("lab3-{serial}", &f).unwrap(), "lab3-mx-0042-b");
        assert_eq!(hostname("Aula_2-{mac}", &f).unwrap(), "aula-2-525400123456");
        let oem = facts(Some("To Be Filled By O.E.M."), Some("52:54:00:12:34:56"));
        assert_eq!(
            hostname("lab3-{serial}", &oem).unwrap(),
            "lab3-525400123456"
        );
        let long = facts(Some(&"9".repeat(80)), None);
        assert_eq!(hostname("lab3-{serial}", &long).unwrap().len(), 63);
        assert_eq!(
            hostname("lab3-{serial}", &facts(None, None))
                .unwrap_err()
                .render(Lang::Es),
            "el patrón de nombre «lab3-{serial}» necesita el número de serie del equipo o la dirección de su tarjeta de red, y este equipo no da ninguno"
        );
    }

    #[test]
    fn a_bad_pattern_is_refused_when_the_stick_is_made() {
        assert_eq!(
            check_pattern("lab3-{serie}").unwrap_err().render(Lang::En),
            "the host name pattern `lab3-{serie}` names `{serie}`; accepted: {serial}, {mac}"
        );
        assert_eq!(
            check_pattern("---").unwrap_err().render(Lang::Es),
            "el patrón de nombre «---» no deja ningún nombre válido (letras, números y guiones)"
        );
        assert!(check_pattern("lab3-{serial}").is_ok());
    }
}
