//! What a command reports, for people or as JSON (`--json`). Every JSON report names its
//! schema and version in its `schema` field (e.g. `mxos-compose-tree/1`); the JSON
//! Schemas are generated from these types into docs/json/ and checked by a test, so a
//! change to a report is a change to its documented schema.

use schemars::JsonSchema;
use serde::Serialize;

/// A command's result.
pub trait Report: Serialize + JsonSchema {
    /// `TOOL-COMMAND/VERSION`: bump the version when a field changes meaning or goes away.
    const SCHEMA: &'static str;
    /// The lines a person reads.
    fn human(&self) -> String;
}

#[derive(Serialize)]
struct Versioned<'a, R: Serialize> {
    schema: &'static str,
    #[serde(flatten)]
    report: &'a R,
}

/// Prints `report` as JSON (one object on stdout) or as its text.
pub fn emit<R: Report>(json: bool, report: &R) {
    if json {
        let v = Versioned {
            schema: R::SCHEMA,
            report,
        };
        // Reports are plain data: serialising cannot fail.
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let text = report.human();
        if !text.is_empty() {
            println!("{}", text.trim_end());
        }
    }
}

/// The JSON Schema of `R`'s report, `schema` field included.
pub fn schema_of<R: Report>() -> (String, serde_json::Value) {
    let mut schema = serde_json::to_value(schemars::schema_for!(R)).unwrap_or_default();
    let (name, version) = R::SCHEMA.split_once('/').unwrap_or((R::SCHEMA, "1"));
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            format!("https://mxos.invalid/schemas/{name}.v{version}.json").into(),
        );
        if let Some(props) = obj.get_mut("properties").and_then(|p| p.as_object_mut()) {
            props.insert(
                "schema".into(),
                serde_json::json!({ "const": R::SCHEMA, "description": "This report's schema and its version." }),
            );
        }
        if let Some(req) = obj.get_mut("required").and_then(|r| r.as_array_mut()) {
            req.insert(0, "schema".into());
        }
    }
    (name.to_owned(), schema)
}

/// The plan `mxos-compose plan` prints: the canonical form that is hashed, so it carries
/// no `schema` field of its own; its version is in the schema's `$id`.
fn plan_schema() -> (String, serde_json::Value) {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(mxos_treefile::Plan)).unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            "https://mxos.invalid/schemas/mxos-compose-plan.v1.json".into(),
        );
    }
    ("mxos-compose-plan".to_owned(), schema)
}

/// The fleet manifest, as `fleet show --json` prints it and devices read it: a signed
/// document with its own `schema` number (docs/fleet-manifest.md).
fn fleet_manifest_schema() -> (String, serde_json::Value) {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(mxos_fleet::FleetManifest)).unwrap_or_default();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            format!(
                "https://mxos.invalid/schemas/mxos-fleet-manifest.v{}.json",
                mxos_fleet::SCHEMA
            )
            .into(),
        );
    }
    ("mxos-fleet-manifest".to_owned(), schema)
}

/// Every report of both tools, for docs/json/.
pub fn schemas() -> Vec<(String, serde_json::Value)> {
    use crate::reports as c;
    use crate::update_reports as u;
    vec![
        plan_schema(),
        schema_of::<c::TreeReport>(),
        schema_of::<c::KeygenReport>(),
        schema_of::<c::SignReport>(),
        schema_of::<c::VerifyReport>(),
        schema_of::<c::PublishReport>(),
        schema_of::<c::PruneReport>(),
        schema_of::<crate::mirror::MirrorReport>(),
        schema_of::<c::DiskReport>(),
        schema_of::<crate::fleet::FleetReport>(),
        fleet_manifest_schema(),
        schema_of::<crate::container::ContainerReport>(),
        schema_of::<crate::container::DiffReport>(),
        schema_of::<crate::container::ImportReport>(),
        schema_of::<u::InitReport>(),
        schema_of::<u::StatusReport>(),
        schema_of::<u::CheckReport>(),
        schema_of::<u::DeployReport>(),
        schema_of::<u::RunReport>(),
        schema_of::<u::HealthReport>(),
        schema_of::<u::RollbackReport>(),
    ]
}
