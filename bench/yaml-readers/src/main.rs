//! `yaml-readers READER DIR`: reads every recording under DIR (all `*.yaml` but `service.yaml`)
//! into memory, then parses each with READER. Run it under callgrind with `none` and with
//! each reader; the difference is the reader's instructions.
//!
//! A `Recording` here has the fields of conform's (`src/recording/model.rs`), with plain types
//! where conform's are its own (provenance, the `recorded:` block).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Recording {
    provenance: String,
    source: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    recorded: Option<BTreeMap<String, Value>>,
    exchanges: Vec<Exchange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Exchange {
    request: Request,
    response: Response,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Request {
    method: String,
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
    #[serde(default)]
    raw_body: Option<String>,
    #[serde(default)]
    raw_body_base64: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Response {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml")
            && path.file_name().is_some_and(|n| n != "service.yaml")
        {
            out.push(path);
        }
    }
}

fn fail<T>(reader: &str, file: &Path, e: &dyn std::fmt::Display) -> T {
    panic!("{reader}: {}: {e}", file.display())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(reader), Some(dir)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: yaml-readers none|serde_yaml_ng|serde-saphyr|noyalib|yaml-rust2|yaml-rust2-events|saphyr-parser-events DIR"
        );
        std::process::exit(2);
    };
    let mut files = Vec::new();
    walk(Path::new(&dir), &mut files);
    files.sort();
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("a UTF-8 file"))
        .collect();
    let mut items = 0usize;
    for (file, text) in files.iter().zip(&texts) {
        items += match reader.as_str() {
            "none" => 0,
            "serde_yaml_ng" => serde_yaml_ng::from_str::<Recording>(text)
                .unwrap_or_else(|e| fail(&reader, file, &e))
                .exchanges
                .len(),
            "serde-saphyr" => serde_saphyr::from_str::<Recording>(text)
                .unwrap_or_else(|e| fail(&reader, file, &e))
                .exchanges
                .len(),
            "noyalib" => noyalib::from_str::<Recording>(text)
                .unwrap_or_else(|e| fail(&reader, file, &e))
                .exchanges
                .len(),
            "yaml-rust2" => yaml_rust2::YamlLoader::load_from_str(text)
                .unwrap_or_else(|e| fail(&reader, file, &e))
                .len(),
            "yaml-rust2-events" => {
                struct Count(usize);
                impl yaml_rust2::parser::EventReceiver for Count {
                    fn on_event(&mut self, _: yaml_rust2::Event) {
                        self.0 += 1;
                    }
                }
                let mut count = Count(0);
                yaml_rust2::parser::Parser::new_from_str(text)
                    .load(&mut count, false)
                    .unwrap_or_else(|e| fail(&reader, file, &e));
                count.0
            }
            "saphyr-parser-events" => {
                let mut n = 0;
                for event in saphyr_parser::Parser::new_from_str(text) {
                    let (event, _) = event.unwrap_or_else(|e| fail(&reader, file, &e));
                    if matches!(event, saphyr_parser::Event::StreamEnd) {
                        break;
                    }
                    n += 1;
                }
                n
            }
            other => {
                eprintln!("yaml-readers: no reader {other}");
                std::process::exit(2);
            }
        };
    }
    println!("{} files, {items} items", texts.len());
}
