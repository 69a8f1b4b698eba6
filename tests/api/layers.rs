//! The layers stay apart: the rules in `src/domain` know no edge and no database, and no JSON handler module
//! reaches into another one except the shared extractors, pagination, session and export helpers.

use std::path::Path;

fn sources(folder: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&path).unwrap()))
        .collect();
    files.sort();
    assert!(files.len() > 3, "{folder} has its modules");
    files
}

/// Lines of `text` that use one of `forbidden` as a path.
fn uses<'a>(text: &'a str, forbidden: &[&str]) -> Vec<&'a str> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| forbidden.iter().any(|f| line.contains(f)))
        .collect()
}

#[test]
fn the_rules_know_neither_actix_nor_diesel_nor_an_edge() {
    let forbidden = ["actix_web", "actix_", "diesel", "crate::db", "crate::error", "crate::api", "crate::app"];
    let mut found = Vec::new();
    for (file, text) in sources("src/domain") {
        found.extend(uses(&text, &forbidden).into_iter().map(|line| format!("src/domain/{file}: {}", line.trim())));
    }
    assert!(found.is_empty(), "src/domain reaches outside the rules:\n{}", found.join("\n"));
}

#[test]
fn no_json_handler_module_imports_another() {
    const SHARED: [&str; 8] = ["extract", "pagination", "session", "middleware", "client", "docs", "export", "mod"];
    let mut found = Vec::new();
    for (file, text) in sources("src/api") {
        if file == "mod.rs" {
            continue;
        }
        for line in uses(&text, &["crate::api::"]) {
            let module =
                line.split("crate::api::").nth(1).unwrap_or("").split([':', ';', '{', ' ']).next().unwrap_or("");
            if !SHARED.contains(&module) {
                found.push(format!("src/api/{file}: {}", line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "handler modules import each other:\n{}", found.join("\n"));
}

#[test]
fn the_database_layer_answers_its_own_errors() {
    let found: Vec<String> = sources("src/db")
        .into_iter()
        .flat_map(|(file, text)| {
            uses(&text, &["ApiError", "crate::error", "crate::api", "crate::app"])
                .into_iter()
                .map(|line| format!("src/db/{file}: {}", line.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(found.is_empty(), "src/db knows an edge:\n{}", found.join("\n"));
}
