//! A service's regional endpoints, from an extract of botocore's `endpoints.json` shipped beside
//! the model (`endpoints.json`): the partitions that list the service, their DNS suffix and
//! hostname defaults, and the service's entry unchanged. Like botocore, a region is resolved only
//! when the entry lists it: a hostname made up for an unlisted region would only fail later, with
//! a DNS error.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::ModelError;
use super::traits::invalid;

/// One region of the service's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionEndpoint {
    pub partition: String,
    pub region: String,
    pub hostname: String,
    /// The `fips` variant's hostname, when the entry or the partition defaults give one for a
    /// region that lists it. botocore only offers a variant the region's entry lists.
    pub fips_hostname: Option<String>,
    /// botocore `credentialScope.region` (the `fips-*` pseudo-regions): the region requests are
    /// signed for. `None`: the region itself.
    pub credential_scope: Option<String>,
    pub deprecated: bool,
}

/// Where to send requests for a region, and the region to sign them for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedEndpoint {
    /// `https://<hostname>`
    pub url: String,
    pub signing_region: String,
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("{service} has no endpoint in region `{region}`{hint}; regions with one: {known}")]
    NoEndpoint {
        service: String,
        region: String,
        hint: String,
        known: String,
    },
    #[error("{service} has no FIPS endpoint in region `{region}`; regions with one: {known}")]
    NoFipsEndpoint {
        service: String,
        region: String,
        known: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// The botocore service key (`inspector`).
    pub service: String,
    pub entries: Vec<RegionEndpoint>,
}

/// The conventional place of the endpoints extract: `endpoints.json` beside the model file.
pub fn endpoints_path_for(model_path: &Path) -> PathBuf {
    model_path.with_file_name("endpoints.json")
}

impl Endpoints {
    pub fn load(path: &Path) -> Result<Endpoints, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
            path: path.to_owned(),
            source,
        })?;
        Endpoints::parse(path, &bytes)
    }

    /// Parses the extract (botocore `endpoints.json` form plus a top-level `service` key
    /// naming the service entry to read); `path` is for messages only.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Endpoints, ModelError> {
        let root: Value = serde_json::from_slice(bytes).map_err(|e| ModelError::NotJson {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let service = root
            .get("service")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                invalid(
                    path,
                    "/service",
                    "the botocore service key this extract is for is missing",
                )
            })?
            .to_owned();
        let partitions = root
            .get("partitions")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(path, "/partitions", "must be a list"))?;
        let mut entries = Vec::new();
        for (i, p) in partitions.iter().enumerate() {
            let at = format!("/partitions/{i}");
            let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
            let partition = text(p, "partition")
                .ok_or_else(|| invalid(path, &format!("{at}/partition"), "missing"))?;
            let dns_suffix = text(p, "dnsSuffix")
                .ok_or_else(|| invalid(path, &format!("{at}/dnsSuffix"), "missing"))?;
            let defaults = p.get("defaults").cloned().unwrap_or(Value::Null);
            let Some(svc) = p.get("services").and_then(|s| s.get(&service)) else {
                continue;
            };
            // Service defaults override partition defaults (botocore's merge order).
            let svc_defaults = svc.get("defaults").cloned().unwrap_or(Value::Null);
            let default_hostname = text(&svc_defaults, "hostname")
                .or_else(|| text(&defaults, "hostname"))
                .unwrap_or_else(|| "{service}.{region}.{dnsSuffix}".to_owned());
            let fips_default = fips_variant(&svc_defaults).or_else(|| fips_variant(&defaults));
            let Some(regions) = svc.get("endpoints").and_then(Value::as_object) else {
                return Err(invalid(
                    path,
                    &format!("{at}/services/{service}/endpoints"),
                    "must be an object",
                ));
            };
            for (region, e) in regions {
                let fill = |template: &str, suffix: &str| {
                    template
                        .replace("{service}", &service)
                        .replace("{region}", region)
                        .replace("{dnsSuffix}", suffix)
                };
                let hostname =
                    text(e, "hostname").unwrap_or_else(|| fill(&default_hostname, &dns_suffix));
                // A region offers FIPS when its entry lists a fips variant; the variant's
                // hostname is its own, else the defaults' fips template.
                let fips_hostname = e
                    .get("variants")
                    .and_then(Value::as_array)
                    .and_then(|vs| vs.iter().find(|v| is_fips_only(v)))
                    .map(|v| {
                        text(v, "hostname").unwrap_or_else(|| match &fips_default {
                            Some((t, s)) => fill(t, s.as_deref().unwrap_or(&dns_suffix)),
                            None => fill("{service}-fips.{region}.{dnsSuffix}", &dns_suffix),
                        })
                    });
                entries.push(RegionEndpoint {
                    partition: partition.clone(),
                    region: region.clone(),
                    hostname,
                    fips_hostname,
                    credential_scope: e
                        .get("credentialScope")
                        .and_then(|c| c.get("region"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    deprecated: e.get("deprecated").and_then(Value::as_bool) == Some(true),
                });
            }
        }
        Ok(Endpoints { service, entries })
    }

    /// The regions with a standard endpoint (the deprecated pseudo-regions are accepted by
    /// [`Endpoints::resolve`] but not advertised), in file order.
    pub fn regions(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.credential_scope.is_none() && !e.deprecated)
            .map(|e| e.region.as_str())
            .collect()
    }

    /// The regions with a FIPS endpoint.
    pub fn fips_regions(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.fips_hostname.is_some())
            .map(|e| e.region.as_str())
            .collect()
    }

    /// The https URL for `region` (its FIPS endpoint with `fips`) and the region to sign for.
    /// A pseudo-region (`fips-us-east-1`) is a FIPS endpoint already, whatever `fips` says.
    /// `service_name` is what messages call the service.
    pub fn resolve(
        &self,
        service_name: &str,
        region: &str,
        fips: bool,
    ) -> Result<ResolvedEndpoint, EndpointError> {
        let region = region.trim();
        let Some(entry) = self.entries.iter().find(|e| e.region == region) else {
            let hint = crate::case::did_you_mean(region, self.regions())
                .map(|h| format!(", {h}"))
                .unwrap_or_default();
            return Err(EndpointError::NoEndpoint {
                service: service_name.to_owned(),
                region: region.to_owned(),
                hint,
                known: self.regions().join(", "),
            });
        };
        let hostname = match (&entry.credential_scope, fips) {
            (Some(_), _) | (None, false) => &entry.hostname,
            (None, true) => {
                entry
                    .fips_hostname
                    .as_ref()
                    .ok_or_else(|| EndpointError::NoFipsEndpoint {
                        service: service_name.to_owned(),
                        region: region.to_owned(),
                        known: self.fips_regions().join(", "),
                    })?
            }
        };
        Ok(ResolvedEndpoint {
            url: format!("https://{hostname}"),
            signing_region: entry
                .credential_scope
                .clone()
                .unwrap_or_else(|| entry.region.clone()),
        })
    }

    /// The region a request for `region` is signed for: a pseudo-region's credential scope,
    /// else the region as given (an emulator may use any region name).
    pub fn signing_region<'a>(&'a self, region: &'a str) -> &'a str {
        let region = region.trim();
        self.entries
            .iter()
            .find(|e| e.region == region)
            .and_then(|e| e.credential_scope.as_deref())
            .unwrap_or(region)
    }
}

/// A variant whose tags are exactly `["fips"]` (not dualstack).
fn is_fips_only(v: &Value) -> bool {
    v.get("tags")
        .and_then(Value::as_array)
        .is_some_and(|t| t.len() == 1 && t[0] == "fips")
}

/// The defaults' fips-only variant: its hostname template and its own dnsSuffix.
fn fips_variant(defaults: &Value) -> Option<(String, Option<String>)> {
    let v = defaults
        .get("variants")?
        .as_array()?
        .iter()
        .find(|v| is_fips_only(v))?;
    Some((
        v.get("hostname")?.as_str()?.to_owned(),
        v.get("dnsSuffix")
            .and_then(Value::as_str)
            .map(str::to_owned),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspector() -> Endpoints {
        Endpoints::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/inspector/model/endpoints.json"),
        )
        .unwrap()
    }

    #[test]
    fn the_extract_gives_the_reference_endpoints() {
        let e = inspector();
        assert_eq!(e.service, "inspector");
        // /work/shared/reference/inspector-endpoints.txt (botocore endpoints.json at
        // 0e6e2404b85dc336dd2889814e089bde7d1a4c55): 14 regions, FIPS in the US ones.
        assert_eq!(
            e.regions(),
            [
                "ap-northeast-1",
                "ap-northeast-2",
                "ap-south-1",
                "ap-southeast-2",
                "eu-central-1",
                "eu-north-1",
                "eu-west-1",
                "eu-west-2",
                "us-east-1",
                "us-east-2",
                "us-west-1",
                "us-west-2",
                "us-gov-east-1",
                "us-gov-west-1",
            ]
        );
        assert_eq!(
            e.fips_regions(),
            [
                "us-east-1",
                "us-east-2",
                "us-west-1",
                "us-west-2",
                "us-gov-east-1",
                "us-gov-west-1"
            ]
        );
        for region in e.regions() {
            let r = e.resolve("Inspector", region, false).unwrap();
            assert_eq!(r.url, format!("https://inspector.{region}.amazonaws.com"));
            assert_eq!(r.signing_region, region);
        }
        for region in e.fips_regions() {
            let r = e.resolve("Inspector", region, true).unwrap();
            assert_eq!(
                r.url,
                format!("https://inspector-fips.{region}.amazonaws.com")
            );
            let pseudo = e
                .resolve("Inspector", &format!("fips-{region}"), false)
                .unwrap();
            assert_eq!(
                (pseudo.url, pseudo.signing_region),
                (r.url, region.to_owned())
            );
        }
    }

    #[test]
    fn unknown_regions_and_missing_fips_are_errors() {
        let e = inspector();
        let err = e
            .resolve("Inspector", "us-west-3", false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`us-west-3`") && err.contains("did you mean"),
            "{err}"
        );
        assert!(err.contains("us-gov-west-1"), "{err}");
        let err = e.resolve("Inspector", "eu-west-1", true).unwrap_err();
        assert!(matches!(err, EndpointError::NoFipsEndpoint { .. }));
        assert_eq!(e.signing_region("fips-us-east-1"), "us-east-1");
        assert_eq!(e.signing_region("local"), "local");
        assert_eq!(
            endpoints_path_for(Path::new("cases/x/model/m.json")),
            Path::new("cases/x/model/endpoints.json")
        );
    }

    #[test]
    fn a_broken_extract_is_located() {
        let err = Endpoints::parse(Path::new("e.json"), br#"{"partitions": []}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("e.json: /service:"), "{err}");
        let err = Endpoints::parse(Path::new("e.json"), b"{")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("e.json:1:"), "{err}");
    }
}
