//! Amazon Inspector Classic's endpoints, region by region, and the region a request to each is
//! signed for. The table is botocore's `endpoints.json` entry for the service key `inspector`
//! (see `inspector-endpoints.txt` in the shared reference folder); it is data, not a rule:
//! conform never builds a hostname for a region the table does not list, because a made-up
//! `inspector.<region>.amazonaws.com` would only fail later with a DNS error.

use super::error::AwsError;
use crate::case::did_you_mean;

/// The SigV4 signing name (service metadata `signingName`; Smithy `aws.auth#sigv4`).
pub const SIGNING_NAME: &str = "inspector";

struct Entry {
    region: &'static str,
    hostname: &'static str,
    fips_hostname: Option<&'static str>,
    /// For the deprecated `fips-*` pseudo-regions: the region their requests are signed for
    /// (botocore `credentialScope`). `None` means the region itself.
    credential_scope: Option<&'static str>,
}

const fn standard(
    region: &'static str,
    hostname: &'static str,
    fips_hostname: Option<&'static str>,
) -> Entry {
    Entry {
        region,
        hostname,
        fips_hostname,
        credential_scope: None,
    }
}

const fn pseudo(region: &'static str, hostname: &'static str, scope: &'static str) -> Entry {
    Entry {
        region,
        hostname,
        fips_hostname: None,
        credential_scope: Some(scope),
    }
}

/// botocore `endpoints.json` at commit 0e6e2404b85dc336dd2889814e089bde7d1a4c55, partitions
/// `aws` and `aws-us-gov` (no other partition has an `inspector` entry).
const TABLE: &[Entry] = &[
    standard(
        "ap-northeast-1",
        "inspector.ap-northeast-1.amazonaws.com",
        None,
    ),
    standard(
        "ap-northeast-2",
        "inspector.ap-northeast-2.amazonaws.com",
        None,
    ),
    standard("ap-south-1", "inspector.ap-south-1.amazonaws.com", None),
    standard(
        "ap-southeast-2",
        "inspector.ap-southeast-2.amazonaws.com",
        None,
    ),
    standard("eu-central-1", "inspector.eu-central-1.amazonaws.com", None),
    standard("eu-north-1", "inspector.eu-north-1.amazonaws.com", None),
    standard("eu-west-1", "inspector.eu-west-1.amazonaws.com", None),
    standard("eu-west-2", "inspector.eu-west-2.amazonaws.com", None),
    pseudo(
        "fips-us-east-1",
        "inspector-fips.us-east-1.amazonaws.com",
        "us-east-1",
    ),
    pseudo(
        "fips-us-east-2",
        "inspector-fips.us-east-2.amazonaws.com",
        "us-east-2",
    ),
    pseudo(
        "fips-us-west-1",
        "inspector-fips.us-west-1.amazonaws.com",
        "us-west-1",
    ),
    pseudo(
        "fips-us-west-2",
        "inspector-fips.us-west-2.amazonaws.com",
        "us-west-2",
    ),
    standard(
        "us-east-1",
        "inspector.us-east-1.amazonaws.com",
        Some("inspector-fips.us-east-1.amazonaws.com"),
    ),
    standard(
        "us-east-2",
        "inspector.us-east-2.amazonaws.com",
        Some("inspector-fips.us-east-2.amazonaws.com"),
    ),
    standard(
        "us-west-1",
        "inspector.us-west-1.amazonaws.com",
        Some("inspector-fips.us-west-1.amazonaws.com"),
    ),
    standard(
        "us-west-2",
        "inspector.us-west-2.amazonaws.com",
        Some("inspector-fips.us-west-2.amazonaws.com"),
    ),
    pseudo(
        "fips-us-gov-east-1",
        "inspector-fips.us-gov-east-1.amazonaws.com",
        "us-gov-east-1",
    ),
    pseudo(
        "fips-us-gov-west-1",
        "inspector-fips.us-gov-west-1.amazonaws.com",
        "us-gov-west-1",
    ),
    standard(
        "us-gov-east-1",
        "inspector.us-gov-east-1.amazonaws.com",
        Some("inspector-fips.us-gov-east-1.amazonaws.com"),
    ),
    standard(
        "us-gov-west-1",
        "inspector.us-gov-west-1.amazonaws.com",
        Some("inspector-fips.us-gov-west-1.amazonaws.com"),
    ),
];

/// The regions with a standard endpoint (the deprecated `fips-*` pseudo-regions are accepted
/// too, but not advertised).
pub const REGIONS: &[&str] = &[
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
];

/// The regions with a FIPS endpoint.
pub const FIPS_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
];

/// Where to send requests for a region, and the region to sign them for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://inspector.us-west-2.amazonaws.com`
    pub url: String,
    /// The SigV4 credential-scope region: the region itself, or for a `fips-*` pseudo-region
    /// the region it stands for.
    pub signing_region: String,
}

/// The https URL of Inspector Classic in `region` (its FIPS endpoint with `fips`). A `fips-*`
/// pseudo-region always names a FIPS endpoint, whatever `fips` says.
pub fn endpoint_for(region: &str, fips: bool) -> Result<String, AwsError> {
    resolve_endpoint(region, fips).map(|e| e.url)
}

/// [`endpoint_for`], with the region requests to it are signed for.
pub fn resolve_endpoint(region: &str, fips: bool) -> Result<Endpoint, AwsError> {
    let region = region.trim();
    let Some(entry) = TABLE.iter().find(|e| e.region == region) else {
        let hint = did_you_mean(region, REGIONS.iter().copied())
            .map(|h| format!(", {h}"))
            .unwrap_or_default();
        return Err(AwsError::NoEndpoint {
            region: region.to_owned(),
            hint,
            known: REGIONS.join(", "),
        });
    };
    let hostname = match (entry.credential_scope, fips) {
        // A pseudo-region is a FIPS endpoint already.
        (Some(_), _) | (None, false) => entry.hostname,
        (None, true) => entry
            .fips_hostname
            .ok_or_else(|| AwsError::NoFipsEndpoint {
                region: region.to_owned(),
                known: FIPS_REGIONS.join(", "),
            })?,
    };
    Ok(Endpoint {
        url: format!("https://{hostname}"),
        signing_region: entry.credential_scope.unwrap_or(entry.region).to_owned(),
    })
}

/// The region a request for `region` is signed for: the credential scope of a `fips-*`
/// pseudo-region, otherwise the region as given (endpoints that are not AWS, such as an
/// emulator, may use any region name).
pub fn signing_region(region: &str) -> &str {
    let region = region.trim();
    TABLE
        .iter()
        .find(|e| e.region == region)
        .and_then(|e| e.credential_scope)
        .unwrap_or(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_and_fips_endpoints() {
        assert_eq!(
            endpoint_for("us-west-2", false).unwrap(),
            "https://inspector.us-west-2.amazonaws.com"
        );
        assert_eq!(
            endpoint_for("us-gov-west-1", true).unwrap(),
            "https://inspector-fips.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(
            endpoint_for("eu-west-1", false).unwrap(),
            "https://inspector.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn fips_only_where_listed() {
        let err = endpoint_for("eu-west-1", true).unwrap_err();
        assert!(matches!(err, AwsError::NoFipsEndpoint { .. }));
        assert!(err.to_string().contains("us-east-1, us-east-2"), "{err}");
    }

    #[test]
    fn pseudo_regions_map_to_their_scope() {
        let e = resolve_endpoint("fips-us-east-1", false).unwrap();
        assert_eq!(e.url, "https://inspector-fips.us-east-1.amazonaws.com");
        assert_eq!(e.signing_region, "us-east-1");
        assert_eq!(signing_region("fips-us-gov-west-1"), "us-gov-west-1");
        assert_eq!(signing_region("us-west-2"), "us-west-2");
        assert_eq!(signing_region("local"), "local");
    }

    #[test]
    fn unknown_region_lists_the_known_ones() {
        let err = endpoint_for("us-west-3", false).unwrap_err().to_string();
        assert!(err.contains("`us-west-3`"), "{err}");
        assert!(err.contains("did you mean"), "{err}");
        assert!(
            err.contains("ap-northeast-1") && err.contains("us-gov-west-1"),
            "{err}"
        );
        // A region of a partition without Inspector Classic.
        assert!(endpoint_for("cn-north-1", false).is_err());
        assert!(endpoint_for("ap-southeast-1", false).is_err());
    }

    #[test]
    fn every_listed_region_resolves() {
        for region in REGIONS {
            assert!(endpoint_for(region, false).is_ok(), "{region}");
        }
        for region in FIPS_REGIONS {
            assert!(endpoint_for(region, true).is_ok(), "{region}");
        }
    }
}
