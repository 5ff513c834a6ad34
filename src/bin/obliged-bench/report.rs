//! One measured figure, the table it is printed in, and the machine it was measured on.

/// A measured value beside its ceiling (measured in the same run) and, where the project sets
/// one, its target.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Figure {
    pub store: String,
    pub name: String,
    pub value: f64,
    pub unit: String,
    pub ceiling: Option<f64>,
    /// How close the value comes to the ceiling, as a fraction (1.0 = as fast as the ceiling).
    pub ratio: Option<f64>,
    /// The target, in words (`ratio >= 80%`, `< 5 ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Whether the target was met in this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
    pub note: String,
}

impl Figure {
    /// A figure of `store` with no ceiling yet and an empty note.
    pub fn new(store: &str, name: impl Into<String>, value: f64, unit: &str) -> Self {
        Self {
            store: store.to_owned(),
            name: name.into(),
            value,
            unit: unit.to_owned(),
            ..Self::default()
        }
    }

    /// Sets the ceiling measured beside the value and how close the value comes to it.
    pub fn beside(mut self, ceiling: f64, ratio: f64) -> Self {
        self.ceiling = Some(ceiling);
        self.ratio = Some(ratio);
        self
    }

    /// Sets what the figure measures and what its ceiling is, in words.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Sets the target and whether this run met it.
    pub fn target(mut self, target: &str, met: bool) -> Self {
        self.target = Some(target.to_owned());
        self.met = Some(met);
        self
    }
}

fn store_name(store: &str) -> &str {
    match store {
        "postgres" => "PostgreSQL",
        "sqlite" => "SQLite",
        other => other,
    }
}

pub fn print_table(figures: &[Figure]) {
    println!(
        "{:<10} {:<44} {:>12} {:<10} {:>12} {:>6}  target",
        "store", "figure", "value", "unit", "ceiling", "ratio"
    );
    for figure in figures {
        let target = match (&figure.target, figure.met) {
            (Some(target), Some(true)) => format!("{target}: met"),
            (Some(target), _) => format!("{target}: NOT MET"),
            _ => String::new(),
        };
        println!(
            "{:<10} {:<44} {:>12} {:<10} {:>12} {:>6}  {target}",
            store_name(&figure.store),
            figure.name,
            number(figure.value),
            figure.unit,
            figure.ceiling.map_or("-".to_owned(), number),
            figure
                .ratio
                .map_or("-".to_owned(), |ratio| format!("{:.0}%", ratio * 100.0)),
        );
    }
    println!();
    for figure in figures {
        println!(
            "{} / {}: {}",
            store_name(&figure.store),
            figure.name,
            figure.note
        );
    }
}

/// Large values without decimals, small ones with enough to read.
fn number(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// What the figures were measured on: cores, CPU model, memory, kernel.
pub fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.trim().to_owned());
    let memory_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        });
    serde_json::json!({
        "cores": std::thread::available_parallelism().map_or(0, usize::from),
        "cpu": model,
        "memory_gib": memory_kib.map(|kib| (kib as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        "os": std::env::consts::OS,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|release| release.trim().to_owned()),
    })
}
