//! A service's endpoints, region by region, the region a request to each is signed for, and its
//! SigV4 signing name: all data, from the service model and the botocore `endpoints.json`
//! extract shipped beside it (`cases/<service>/model/endpoints.json`), read by
//! [`crate::model`]. Nothing here names a service. conform never builds a hostname for a
//! region the data does not list, because a made-up one would only fail later with a DNS error.

use std::path::Path;

use super::error::AwsError;
use crate::model::{Endpoints, Model, ModelError, endpoints_path_for, load_model};

/// What signing and reaching a service on AWS needs: its name for messages, its SigV4
/// signing name (model: Smithy `aws.auth#sigv4`, botocore `signingName`) and its endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsService {
    /// For messages: the model's title (`Amazon Inspector`), else its service id.
    pub name: String,
    pub signing_name: String,
    pub endpoints: Endpoints,
}

impl AwsService {
    /// From a loaded model and its endpoints.
    pub fn new(model: &Model, endpoints: Endpoints) -> AwsService {
        AwsService {
            name: model
                .service
                .full_name
                .clone()
                .unwrap_or_else(|| model.service.service_id.clone()),
            signing_name: model.service.signing_name.clone(),
            endpoints,
        }
    }

    /// The model at `model_path` and the `endpoints.json` beside it. Without that file the
    /// service has no AWS endpoint (signing an emulator's requests still works).
    pub fn load(model_path: &Path) -> Result<AwsService, ModelError> {
        let model = load_model(model_path)?;
        AwsService::for_model(&model)
    }

    /// [`AwsService::new`] with the endpoints beside the model's file.
    pub fn for_model(model: &Model) -> Result<AwsService, ModelError> {
        let path = endpoints_path_for(&model.source.path);
        let endpoints = if path.is_file() {
            Endpoints::load(&path)?
        } else {
            Endpoints {
                service: model.service.endpoint_prefix.clone(),
                entries: Vec::new(),
            }
        };
        Ok(AwsService::new(model, endpoints))
    }

    /// The regions with a standard endpoint.
    pub fn regions(&self) -> Vec<&str> {
        self.endpoints.regions()
    }

    /// The regions with a FIPS endpoint.
    pub fn fips_regions(&self) -> Vec<&str> {
        self.endpoints.fips_regions()
    }

    /// The https URL of the service in `region` (its FIPS endpoint with `fips`). A `fips-*`
    /// pseudo-region always names a FIPS endpoint, whatever `fips` says.
    pub fn endpoint_for(&self, region: &str, fips: bool) -> Result<String, AwsError> {
        self.resolve_endpoint(region, fips).map(|e| e.url)
    }

    /// [`AwsService::endpoint_for`], with the region requests to it are signed for.
    pub fn resolve_endpoint(&self, region: &str, fips: bool) -> Result<Endpoint, AwsError> {
        let e = self.endpoints.resolve(&self.name, region, fips)?;
        Ok(Endpoint {
            url: e.url,
            signing_region: e.signing_region,
        })
    }

    /// The region a request for `region` is signed for: the credential scope of a `fips-*`
    /// pseudo-region, otherwise the region as given (endpoints that are not AWS, such as an
    /// emulator, may use any region name).
    pub fn signing_region<'a>(&'a self, region: &'a str) -> &'a str {
        self.endpoints.signing_region(region)
    }
}

/// Where to send requests for a region, and the region to sign them for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://<endpoint prefix>.<region>.amazonaws.com`
    pub url: String,
    /// The SigV4 credential-scope region: the region itself, or for a `fips-*` pseudo-region
    /// the region it stands for.
    pub signing_region: String,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The Inspector Classic data the project ships (tests may name the service).
    pub(crate) fn inspector() -> AwsService {
        AwsService::load(
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("cases/inspector/model/inspector-2016-02-16.json"),
        )
        .unwrap()
    }

    #[test]
    fn standard_and_fips_endpoints() {
        let s = inspector();
        assert_eq!(s.signing_name, "inspector");
        assert_eq!(
            s.endpoint_for("us-west-2", false).unwrap(),
            "https://inspector.us-west-2.amazonaws.com"
        );
        assert_eq!(
            s.endpoint_for("us-gov-west-1", true).unwrap(),
            "https://inspector-fips.us-gov-west-1.amazonaws.com"
        );
        assert_eq!(
            s.endpoint_for("eu-west-1", false).unwrap(),
            "https://inspector.eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn fips_only_where_listed() {
        let s = inspector();
        let err = s.endpoint_for("eu-west-1", true).unwrap_err();
        assert!(matches!(
            err,
            AwsError::Endpoint(crate::model::EndpointError::NoFipsEndpoint { .. })
        ));
        assert!(err.to_string().contains("us-east-1, us-east-2"), "{err}");
    }

    #[test]
    fn pseudo_regions_map_to_their_scope() {
        let s = inspector();
        let e = s.resolve_endpoint("fips-us-east-1", false).unwrap();
        assert_eq!(e.url, "https://inspector-fips.us-east-1.amazonaws.com");
        assert_eq!(e.signing_region, "us-east-1");
        assert_eq!(s.signing_region("fips-us-gov-west-1"), "us-gov-west-1");
        assert_eq!(s.signing_region("us-west-2"), "us-west-2");
        assert_eq!(s.signing_region("local"), "local");
    }

    #[test]
    fn unknown_region_lists_the_known_ones() {
        let s = inspector();
        let err = s.endpoint_for("us-west-3", false).unwrap_err().to_string();
        assert!(
            err.starts_with("Amazon Inspector has no endpoint in region `us-west-3`"),
            "{err}"
        );
        assert!(err.contains("did you mean"), "{err}");
        assert!(
            err.contains("ap-northeast-1") && err.contains("us-gov-west-1"),
            "{err}"
        );
        // A region of a partition without Inspector Classic.
        assert!(s.endpoint_for("cn-north-1", false).is_err());
        assert!(s.endpoint_for("ap-southeast-1", false).is_err());
        assert_eq!(s.regions().len(), 14);
        assert_eq!(s.fips_regions().len(), 6);
    }

    #[test]
    fn every_listed_region_resolves() {
        let s = inspector();
        for region in s.regions() {
            assert!(s.endpoint_for(region, false).is_ok(), "{region}");
        }
        for region in s.fips_regions() {
            assert!(s.endpoint_for(region, true).is_ok(), "{region}");
        }
    }
}
