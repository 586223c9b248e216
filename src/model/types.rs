//! The one in-memory form of a service model, whichever file it came from (a Smithy JSON AST or
//! a botocore `service-2.json`): service metadata, operations, and shapes with their traits.
//!
//! Shapes are kept in a flat map keyed by shape id and members name their target by id, so a
//! recursive shape (a structure that holds a list of itself) is just a cycle of ids: nothing here
//! walks the graph. Anything that does walk it (a generator, a validator) must end on its own:
//! the validator walks the JSON value, which is finite; a generator should carry a depth or a
//! set of shapes on its path.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::ModelError;

/// Which file format a model was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A Smithy JSON AST (`{"smithy": "2.0", "shapes": {...}}`).
    Smithy,
    /// A botocore `service-2.json` (`{"metadata": {...}, "operations": {...}, "shapes": {...}}`).
    Botocore,
}

/// The wire protocols conform speaks. Everything else is refused at load, naming the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    AwsJson1_0,
    AwsJson1_1,
}

impl Protocol {
    /// `1.0` or `1.1` (botocore `jsonVersion`).
    pub fn json_version(self) -> &'static str {
        match self {
            Protocol::AwsJson1_0 => "1.0",
            Protocol::AwsJson1_1 => "1.1",
        }
    }

    /// The request and response content type (Smithy awsJson1_0 / awsJson1_1 specifications).
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::AwsJson1_0 => "application/x-amz-json-1.0",
            Protocol::AwsJson1_1 => "application/x-amz-json-1.1",
        }
    }

    /// The Smithy name of the protocol (`awsJson1_1`).
    pub fn name(self) -> &'static str {
        match self {
            Protocol::AwsJson1_0 => "awsJson1_0",
            Protocol::AwsJson1_1 => "awsJson1_1",
        }
    }
}

/// Where a model came from: the file, its format and its content, with a stable hash of it.
#[derive(Clone)]
pub struct ModelSource {
    pub path: std::path::PathBuf,
    pub format: Format,
    /// The model's JSON bytes: the file's bytes, or for a `.gz` file the bytes it decompresses to.
    json: std::sync::Arc<[u8]>,
    sha256: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl ModelSource {
    pub fn new(path: &std::path::Path, format: Format, json: Vec<u8>) -> ModelSource {
        ModelSource {
            path: path.to_owned(),
            format,
            json: json.into(),
            sha256: Default::default(),
        }
    }

    /// sha256 (lower-case hex) of the model's JSON bytes, so a plain and a gzipped copy of one
    /// model hash the same. Worked out when first asked for: only what names the model by its
    /// hash (`conform generate`, `conform model`) needs it, and hashing every model loaded was a
    /// tenth of the README suite's instructions.
    pub fn sha256(&self) -> &str {
        self.sha256
            .get_or_init(|| super::load::sha256_hex(&self.json))
    }
}

impl PartialEq for ModelSource {
    fn eq(&self, other: &ModelSource) -> bool {
        self.path == other.path && self.format == other.format && self.json == other.json
    }
}

impl Eq for ModelSource {}

impl std::fmt::Debug for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSource")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("json_bytes", &self.json.len())
            .finish()
    }
}

/// Service-level metadata: everything that used to be Inspector literals in Rust code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Smithy: the service shape id (`com.amazonaws.inspector#InspectorService`);
    /// botocore: `metadata.uid`, or `<endpointPrefix>-<apiVersion>` without one.
    pub id: String,
    pub protocol: Protocol,
    /// `X-Amz-Target` is `<target_prefix>.<operation>`. Smithy: the service shape's name
    /// (awsJson1_x specifications); botocore: `metadata.targetPrefix`.
    pub target_prefix: String,
    /// SigV4 signing name: Smithy `aws.auth#sigv4` `name`; botocore `signingName`, else
    /// `endpointPrefix` (botocore's own fallback).
    pub signing_name: String,
    /// The host label of regional endpoints: Smithy `aws.api#service` `endpointPrefix`;
    /// botocore `metadata.endpointPrefix`.
    pub endpoint_prefix: String,
    /// Smithy: the service shape's `version`; botocore `metadata.apiVersion`.
    pub api_version: String,
    /// Smithy `aws.api#service` `sdkId`; botocore `metadata.serviceId`.
    pub service_id: String,
    /// Smithy `smithy.api#title`; botocore `metadata.serviceFullName`.
    pub full_name: Option<String>,
    pub documentation: Option<String>,
}

impl Service {
    /// `1.0` or `1.1`.
    pub fn json_version(&self) -> &'static str {
        self.protocol.json_version()
    }

    /// `application/x-amz-json-1.1` and the like.
    pub fn content_type(&self) -> &'static str {
        self.protocol.content_type()
    }

    /// The `X-Amz-Target` header value for an operation.
    pub fn target(&self, operation: &str) -> String {
        format!("{}.{operation}", self.target_prefix)
    }
}

/// One example exchange of an operation (Smithy `smithy.api#examples`).
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    pub title: String,
    pub documentation: Option<String>,
    pub input: Option<Value>,
    pub output: Option<Value>,
    /// For an example of an error: the error shape id and its content.
    pub error: Option<(String, Value)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// The name used on the wire (`StartAssessmentRun`).
    pub name: String,
    /// Smithy: the operation shape id; botocore: the name.
    pub id: String,
    /// The input structure's shape id; `None` for `smithy.api#Unit` or no input.
    pub input: Option<String>,
    /// The output structure's shape id; `None` for `smithy.api#Unit` or no output.
    pub output: Option<String>,
    /// Error shape ids, the operation's own followed by the service's common errors (Smithy
    /// service `errors`), in model order, without duplicates.
    pub errors: Vec<String>,
    pub documentation: Option<String>,
    pub examples: Vec<Example>,
    pub deprecated: bool,
}

/// A shape's kind, and for aggregates their members.
#[derive(Clone, Debug, PartialEq)]
///
/// Members are in name order (the order serde_json's maps keep), not the file's order.
pub enum ShapeKind {
    Structure(Vec<Member>),
    Union(Vec<Member>),
    List(Box<Member>),
    Map {
        key: Box<Member>,
        value: Box<Member>,
    },
    /// Also Smithy `enum` shapes and botocore strings with `enum`: the values are in
    /// [`Traits::enum_values`].
    String,
    Number(NumberKind),
    Boolean,
    Blob,
    Timestamp,
    Document,
    /// `smithy.api#Unit`: no value at all.
    Unit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberKind {
    Byte,
    Short,
    Integer,
    Long,
    Float,
    Double,
    BigInteger,
    BigDecimal,
}

impl NumberKind {
    /// Whether the JSON number must be whole.
    pub fn is_integral(self) -> bool {
        matches!(
            self,
            NumberKind::Byte
                | NumberKind::Short
                | NumberKind::Integer
                | NumberKind::Long
                | NumberKind::BigInteger
        )
    }

    /// The bounds of the type itself (Smithy "Simple types"), for the fixed-width integers.
    pub fn bounds(self) -> Option<(i64, i64)> {
        match self {
            NumberKind::Byte => Some((i8::MIN.into(), i8::MAX.into())),
            NumberKind::Short => Some((i16::MIN.into(), i16::MAX.into())),
            NumberKind::Integer => Some((i32::MIN.into(), i32::MAX.into())),
            NumberKind::Long => Some((i64::MIN, i64::MAX)),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            NumberKind::Byte => "byte",
            NumberKind::Short => "short",
            NumberKind::Integer => "integer",
            NumberKind::Long => "long",
            NumberKind::Float => "float",
            NumberKind::Double => "double",
            NumberKind::BigInteger => "bigInteger",
            NumberKind::BigDecimal => "bigDecimal",
        }
    }
}

impl ShapeKind {
    /// The Smithy type name (`structure`, `string`, `integer`...).
    pub fn name(&self) -> &'static str {
        match self {
            ShapeKind::Structure(_) => "structure",
            ShapeKind::Union(_) => "union",
            ShapeKind::List(_) => "list",
            ShapeKind::Map { .. } => "map",
            ShapeKind::String => "string",
            ShapeKind::Number(n) => n.name(),
            ShapeKind::Boolean => "boolean",
            ShapeKind::Blob => "blob",
            ShapeKind::Timestamp => "timestamp",
            ShapeKind::Document => "document",
            ShapeKind::Unit => "unit",
        }
    }
}

/// `min..=max` of a `length` trait (characters, bytes, entries or items by shape kind).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Length {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

/// `min..=max` of a `range` trait. Smithy allows arbitrary decimals; f64 holds every bound the
/// AWS models use (and integers up to 2^53 exactly).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// One allowed value of a string enum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    /// What travels on the wire.
    pub value: String,
    /// The symbolic name (Smithy enum member name / `smithy.api#enum` `name`), when given.
    pub name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// `smithy.api#error: "client"`; botocore `exception` without `fault`. Default status 400.
    Client,
    /// `smithy.api#error: "server"`; botocore `fault: true`. Default status 500.
    Server,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampFormat {
    /// Seconds since the epoch as a JSON number (the awsJson default).
    EpochSeconds,
    /// RFC 3339 `date-time` string.
    DateTime,
    /// IMF-fixdate (RFC 7231) string.
    HttpDate,
}

impl TimestampFormat {
    pub fn name(self) -> &'static str {
        match self {
            TimestampFormat::EpochSeconds => "epoch-seconds",
            TimestampFormat::DateTime => "date-time",
            TimestampFormat::HttpDate => "http-date",
        }
    }
}

/// The traits conform reads. A member's own traits override its target's: use
/// [`Model::effective_traits`] for what applies to a member's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traits {
    pub length: Option<Length>,
    pub range: Option<Range>,
    /// A Smithy (ECMA 262) regular expression; not anchored (Smithy `pattern`).
    pub pattern: Option<String>,
    pub enum_values: Option<Vec<EnumValue>>,
    /// `intEnum` values (Smithy 2.0).
    pub int_enum_values: Option<Vec<i64>>,
    pub timestamp_format: Option<TimestampFormat>,
    pub error: Option<ErrorKind>,
    /// `smithy.api#httpError` (botocore `error.httpStatusCode`).
    pub http_error: Option<u16>,
    /// Smithy `smithy.api#default`; botocore has none.
    pub default: Option<Value>,
    /// `smithy.api#jsonName`. Kept for completeness; awsJson1_0/1_1 do not honour it (the
    /// Smithy awsJson specifications say members are serialised by member name).
    pub json_name: Option<String>,
    /// `smithy.api#sparse` on a list or map: null items allowed.
    pub sparse: bool,
    pub sensitive: bool,
    pub deprecated: bool,
    /// botocore `error.code` (the awsQuery-compatible code); rarely set for JSON services.
    pub error_code: Option<String>,
}

impl Traits {
    /// `self` with every trait `over` sets replacing it (member traits over target traits).
    pub fn overridden_by(&self, over: &Traits) -> Traits {
        Traits {
            length: over.length.or(self.length),
            range: over.range.or(self.range),
            pattern: over.pattern.clone().or_else(|| self.pattern.clone()),
            enum_values: over
                .enum_values
                .clone()
                .or_else(|| self.enum_values.clone()),
            int_enum_values: over
                .int_enum_values
                .clone()
                .or_else(|| self.int_enum_values.clone()),
            timestamp_format: over.timestamp_format.or(self.timestamp_format),
            error: over.error.or(self.error),
            http_error: over.http_error.or(self.http_error),
            default: over.default.clone().or_else(|| self.default.clone()),
            json_name: over.json_name.clone().or_else(|| self.json_name.clone()),
            sparse: over.sparse || self.sparse,
            sensitive: over.sensitive || self.sensitive,
            deprecated: over.deprecated || self.deprecated,
            error_code: over.error_code.clone().or_else(|| self.error_code.clone()),
        }
    }
}

/// A member of a structure or union, or the member / key / value of a list or map.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The member name (`assessmentRunArn`; `member`, `key`, `value` in lists and maps).
    pub name: String,
    /// The target shape id.
    pub target: String,
    pub required: bool,
    /// The member's own traits (not its target's).
    pub traits: Traits,
    pub documentation: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub id: String,
    pub kind: ShapeKind,
    pub traits: Traits,
    pub documentation: Option<String>,
}

impl Shape {
    /// The shape's name without namespace (`NoSuchEntityException`).
    pub fn name(&self) -> &str {
        shape_name(&self.id)
    }

    /// The members of a structure or union; empty for anything else.
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            ShapeKind::Structure(m) | ShapeKind::Union(m) => m,
            _ => &[],
        }
    }

    /// The HTTP status of an error shape: `httpError`, else 400 for client and 500 for server
    /// errors (Smithy `error` trait); `None` for a shape that is not an error.
    pub fn error_status(&self) -> Option<u16> {
        let kind = self.traits.error?;
        Some(self.traits.http_error.unwrap_or(match kind {
            ErrorKind::Client => 400,
            ErrorKind::Server => 500,
        }))
    }
}

/// `ns#Name` → `Name`; a botocore id has no namespace and is its own name.
pub fn shape_name(id: &str) -> &str {
    id.rsplit('#').next().unwrap_or(id)
}

/// A loaded model. Every member target, operation input, output and error names a shape in
/// `shapes` (checked at load), so the lookups below only fail for ids from elsewhere.
#[derive(Clone, Debug)]
pub struct Model {
    pub source: ModelSource,
    pub service: Service,
    /// By operation name, sorted.
    pub operations: BTreeMap<String, Operation>,
    /// By shape id, including the Smithy prelude shapes members refer to.
    pub shapes: BTreeMap<String, Shape>,
}

impl Model {
    /// The operation called `name`, or an error with a did-you-mean.
    pub fn operation(&self, name: &str) -> Result<&Operation, ModelError> {
        self.operations.get(name).ok_or_else(|| {
            let hint = crate::case::did_you_mean(name, self.operations.keys().map(String::as_str))
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            ModelError::UnknownOperation {
                path: self.source.path.clone(),
                name: name.to_owned(),
                hint,
            }
        })
    }

    pub fn shape(&self, id: &str) -> Option<&Shape> {
        self.shapes.get(id)
    }

    /// The shape a member points at (always there once loaded).
    pub fn target(&self, member: &Member) -> Option<&Shape> {
        self.shapes.get(&member.target)
    }

    /// The traits that apply to a member's value: the target's, overridden by the member's.
    pub fn effective_traits(&self, member: &Member) -> Traits {
        match self.target(member) {
            Some(target) => target.traits.overridden_by(&member.traits),
            None => member.traits.clone(),
        }
    }

    /// The error shape of an operation whose name (after sanitising) is `name`.
    pub fn operation_error<'a>(&'a self, op: &Operation, name: &str) -> Option<&'a Shape> {
        op.errors
            .iter()
            .filter_map(|id| self.shapes.get(id))
            .find(|s| s.name() == name)
    }

    /// The operation names, sorted.
    pub fn operation_names(&self) -> impl Iterator<Item = &str> {
        self.operations.keys().map(String::as_str)
    }
}
