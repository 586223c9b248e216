//! The service model: conform's ground floor. A Smithy JSON AST or a botocore `service-2.json`
//! (plain or `.gz`) read into one in-memory form ([`Model`]: service metadata, operations,
//! shapes and traits), a service's regional endpoints from botocore's endpoint data
//! ([`Endpoints`]), and the validation of responses against the model ([`validate_response`],
//! [`validate_exchange`]).
//!
//! Pure apart from reading the files it is given: nothing here writes, prints or talks to the
//! network. Only awsJson1_0 and awsJson1_1 models load; any other protocol is refused, naming it.

mod botocore;
mod endpoints;
mod error;
mod load;
mod service_file;
mod smithy;
mod traits;
mod types;
mod validate;

pub use endpoints::{
    EndpointError, Endpoints, RegionEndpoint, ResolvedEndpoint, endpoints_path_for,
};
pub use error::ModelError;
pub use load::{load_model, parse_model, sha256_hex};
pub use service_file::{SERVICE_FILE, ServiceFile, find_service_file, read_service_file};
pub use types::{
    EnumValue, ErrorKind, Example, Format, Length, Member, Model, ModelSource, NumberKind,
    Operation, Protocol, Range, Service, Shape, ShapeKind, TimestampFormat, Traits, shape_name,
};
pub use validate::{
    CommonError, Finding, Severity, Validation, common_errors, common_errors_source,
    validate_exchange, validate_response, validate_value,
};
