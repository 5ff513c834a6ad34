//! Loading the policy: a TOML file named by `--policy`, or one of the presets shipped inside the
//! binary (`standard`, `fca`, `kifid`, `awb`; see `src/policies/`).

use std::path::Path;

use anyhow::Context;
use obliged_domain::{Policy, PolicyConfig};

/// The presets, by name, with their TOML text.
pub const PRESETS: &[(&str, &str)] = &[
    ("standard", include_str!("policies/standard.toml")),
    ("fca", include_str!("policies/fca.toml")),
    ("kifid", include_str!("policies/kifid.toml")),
    ("awb", include_str!("policies/awb.toml")),
];

/// The policy used when none is named.
pub const DEFAULT_POLICY: &str = "standard";

/// Loads a preset by name, or else the TOML file at that path.
pub fn load(spec: &str) -> anyhow::Result<Policy> {
    if let Some((_, text)) = PRESETS.iter().find(|(name, _)| *name == spec) {
        return parse(text).with_context(|| format!("the built-in policy {spec:?}"));
    }
    let path = Path::new(spec);
    if !path.exists() {
        let names: Vec<&str> = PRESETS.iter().map(|(name, _)| *name).collect();
        anyhow::bail!(
            "policy {spec:?} is neither a file nor a preset ({})",
            names.join(", ")
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the policy file {}", path.display()))?;
    parse(&text).with_context(|| format!("the policy file {}", path.display()))
}

/// Parses and checks a policy's TOML text.
pub fn parse(text: &str) -> anyhow::Result<Policy> {
    let config: PolicyConfig = toml::from_str(text)?;
    Ok(Policy::from_config(&config)?)
}

#[cfg(test)]
mod tests {
    use obliged_domain::{Regime, SubjectKind};

    use super::*;

    #[test]
    fn every_preset_parses() {
        for (name, _) in PRESETS {
            let policy = load(name).unwrap_or_else(|error| panic!("{name}: {error:#}"));
            assert!(!policy.ladder(SubjectKind::Promise).is_empty(), "{name}");
        }
        assert_eq!(load("fca").unwrap().regime, Regime::FcaDisp);
        assert_eq!(load("kifid").unwrap().regime, Regime::Kifid);
        assert_eq!(load("awb").unwrap().regime, Regime::Awb);
    }

    #[test]
    fn the_readme_example_is_a_valid_policy() {
        let readme = include_str!("../README.md");
        let section = readme
            .find("## The promise clock")
            .expect("the README has the section");
        let start = section
            + readme[section..]
                .find("```toml\n")
                .expect("it shows a policy")
            + 8;
        let length = readme[start..].find("```").expect("closed block");
        let policy = parse(&readme[start..start + length]).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(policy.regime, Regime::Kifid);
        assert_eq!(policy.ladder(SubjectKind::Promise).len(), 2);
        assert_eq!(
            policy.team_of(&obliged_domain::StaffId::parse("bob").unwrap()),
            Some("billing")
        );
        let christmas_eve = "2026-12-24T13:00:00+01:00"
            .parse::<jiff::Timestamp>()
            .unwrap();
        assert!(!policy.calendar.is_working(christmas_eve), "the closure");
    }

    #[test]
    fn a_bad_policy_is_refused_with_where_and_why() {
        let error = parse("[deadlines]\nrespond_within = \"soon\"\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "deadlines.respond_within: \"soon\" is not a positive business duration such as 8h or 90m"
        );
        let error = parse("[calendar]\ntime_zone = \"Mars/Olympus\"\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "calendar: unknown time zone \"Mars/Olympus\""
        );
        let error =
            parse("[[ladders.follow-up]]\nname = \"x\"\noffset = \"0\"\nmark_broken = true\n")
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "ladders.follow-up: only promise rungs can mark something broken"
        );
        let error = parse("[[ladders.promise]]\nname = \"x\"\noffset = \"soon\"\n").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("offset \"soon\" is not 0 or [+-]N"),
            "{error}"
        );
        let error = parse("colour = \"blue\"\n").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `colour`"),
            "{error}"
        );
        assert!(load("/nonexistent/policy.toml")
            .unwrap_err()
            .to_string()
            .contains("neither a file nor a preset"));
    }
}
