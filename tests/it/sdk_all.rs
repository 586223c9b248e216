//! The whole service replays (issue 11, section 4): the real `aws-sdk-inspector` calls every
//! operation of the model once, with the generated valid request's values, against the replay
//! of `recordings/`, and must read what the recording says: `Ok`, and an output member equal
//! to the recorded one. A request the SDK puts on the wire differently from the recording
//! misses (a 404 from the replay), so this also holds the generated requests to what a real
//! client sends. Nothing here talks to AWS.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::Path;

use aws_credential_types::Credentials;
use aws_sdk_inspector::Client;
use aws_sdk_inspector::config::retry::RetryConfig;
use aws_sdk_inspector::config::{BehaviorVersion, Region};
use aws_sdk_inspector::types::{
    Attribute, InspectorEvent as Event, ReportFileFormat, ReportType, ResourceGroupTag, Tag,
};
use conform::recording::{load_recording, load_recordings};
use conform::replay::{Replay, ReplayServer};
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_inspector::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-west-2"))
        .credentials_provider(Credentials::new(
            "AKIDEXAMPLE",
            "test-secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// The recorded valid request and answer of an operation: the generated one, or where the
/// curated suite wins, its documented sample exchange.
fn recorded(op: &str) -> (Value, Value) {
    let dir = Path::new(ROOT).join("recordings/inspector").join(op);
    let file = ["valid_request.yaml", "documented_sample_exchange.yaml"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no valid-request recording for {op}"));
    let recording = load_recording(&file).unwrap_or_else(|e| panic!("{e:?}"));
    let exchange = &recording.exchanges[0];
    let request = exchange.request.body.clone().expect("a JSON request body");
    let response = serde_json::from_str(exchange.response.body.as_deref().unwrap_or("{}"))
        .expect("a JSON response body");
    (request, response)
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().expect("a list").iter().map(s).collect()
}

fn int(v: &Value) -> Option<i32> {
    v.as_i64().map(|n| n as i32)
}

fn attributes(v: &Value) -> Vec<Attribute> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|a| {
            Attribute::builder()
                .key(s(&a["key"]))
                .set_value(a.get("value").map(s))
                .build()
                .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_calls_every_operation_and_reads_the_recorded_answer() {
    let recordings = load_recordings(&Path::new(ROOT).join("recordings")).expect("recordings load");
    let replay = Replay::new(&recordings).expect("a replay");
    let listener = TcpListener::bind("127.0.0.1:0").expect("an ephemeral port");
    let server = ReplayServer::start(replay, listener, None).await;
    let sdk = client(&server.uri());
    let mut called = BTreeSet::new();

    macro_rules! op {
        ($name:literal) => {{
            called.insert($name);
            recorded($name)
        }};
    }
    // Every call must succeed: an Err is a miss (the SDK sent another request than the
    // recording's) or an answer the SDK could not read.
    macro_rules! ok {
        ($name:literal, $call:expr) => {
            $call.await.unwrap_or_else(|e| {
                panic!(
                    "{}: {:?}",
                    $name,
                    aws_sdk_inspector::error::DisplayErrorContext(e)
                )
            })
        };
    }

    let (q, r) = op!("AddAttributesToFindings");
    let out = ok!(
        "AddAttributesToFindings",
        sdk.add_attributes_to_findings()
            .set_finding_arns(Some(strs(&q["findingArns"])))
            .set_attributes(Some(attributes(&q["attributes"])))
            .send()
    );
    assert_eq!(
        out.failed_items().len(),
        r["failedItems"].as_object().unwrap().len()
    );

    let (q, r) = op!("CreateAssessmentTarget");
    let out = ok!(
        "CreateAssessmentTarget",
        sdk.create_assessment_target()
            .assessment_target_name(s(&q["assessmentTargetName"]))
            .set_resource_group_arn(q.get("resourceGroupArn").map(s))
            .send()
    );
    assert_eq!(out.assessment_target_arn(), s(&r["assessmentTargetArn"]));

    let (q, r) = op!("CreateAssessmentTemplate");
    let out = ok!(
        "CreateAssessmentTemplate",
        sdk.create_assessment_template()
            .assessment_target_arn(s(&q["assessmentTargetArn"]))
            .assessment_template_name(s(&q["assessmentTemplateName"]))
            .set_duration_in_seconds(int(&q["durationInSeconds"]))
            .set_rules_package_arns(Some(strs(&q["rulesPackageArns"])))
            .set_user_attributes_for_findings(q.get("userAttributesForFindings").map(attributes))
            .send()
    );
    assert_eq!(
        out.assessment_template_arn(),
        s(&r["assessmentTemplateArn"])
    );

    let (q, r) = op!("CreateExclusionsPreview");
    let out = ok!(
        "CreateExclusionsPreview",
        sdk.create_exclusions_preview()
            .assessment_template_arn(s(&q["assessmentTemplateArn"]))
            .send()
    );
    assert_eq!(out.preview_token(), s(&r["previewToken"]));

    let (q, r) = op!("CreateResourceGroup");
    let tags = q["resourceGroupTags"].as_array().unwrap().iter().map(|t| {
        ResourceGroupTag::builder()
            .key(s(&t["key"]))
            .set_value(t.get("value").map(s))
            .build()
            .unwrap()
    });
    let out = ok!(
        "CreateResourceGroup",
        sdk.create_resource_group()
            .set_resource_group_tags(Some(tags.collect()))
            .send()
    );
    assert_eq!(out.resource_group_arn(), s(&r["resourceGroupArn"]));

    let (q, _) = op!("DeleteAssessmentRun");
    ok!(
        "DeleteAssessmentRun",
        sdk.delete_assessment_run()
            .assessment_run_arn(s(&q["assessmentRunArn"]))
            .send()
    );
    let (q, _) = op!("DeleteAssessmentTarget");
    ok!(
        "DeleteAssessmentTarget",
        sdk.delete_assessment_target()
            .assessment_target_arn(s(&q["assessmentTargetArn"]))
            .send()
    );
    let (q, _) = op!("DeleteAssessmentTemplate");
    ok!(
        "DeleteAssessmentTemplate",
        sdk.delete_assessment_template()
            .assessment_template_arn(s(&q["assessmentTemplateArn"]))
            .send()
    );

    let (q, r) = op!("DescribeAssessmentRuns");
    let out = ok!(
        "DescribeAssessmentRuns",
        sdk.describe_assessment_runs()
            .set_assessment_run_arns(Some(strs(&q["assessmentRunArns"])))
            .send()
    );
    assert_eq!(
        out.assessment_runs()[0].arn(),
        s(&r["assessmentRuns"][0]["arn"])
    );

    let (q, r) = op!("DescribeAssessmentTargets");
    let out = ok!(
        "DescribeAssessmentTargets",
        sdk.describe_assessment_targets()
            .set_assessment_target_arns(Some(strs(&q["assessmentTargetArns"])))
            .send()
    );
    assert_eq!(
        out.assessment_targets()[0].arn(),
        s(&r["assessmentTargets"][0]["arn"])
    );

    let (q, r) = op!("DescribeAssessmentTemplates");
    let out = ok!(
        "DescribeAssessmentTemplates",
        sdk.describe_assessment_templates()
            .set_assessment_template_arns(Some(strs(&q["assessmentTemplateArns"])))
            .send()
    );
    assert_eq!(
        out.assessment_templates()[0].arn(),
        s(&r["assessmentTemplates"][0]["arn"])
    );

    let (_, r) = op!("DescribeCrossAccountAccessRole");
    let out = ok!(
        "DescribeCrossAccountAccessRole",
        sdk.describe_cross_account_access_role().send()
    );
    assert_eq!(out.role_arn(), s(&r["roleArn"]));

    let (q, r) = op!("DescribeExclusions");
    let out = ok!(
        "DescribeExclusions",
        sdk.describe_exclusions()
            .set_exclusion_arns(Some(strs(&q["exclusionArns"])))
            .send()
    );
    let (key, first) = r["exclusions"].as_object().unwrap().iter().next().unwrap();
    assert_eq!(out.exclusions()[key].arn(), s(&first["arn"]));

    let (q, r) = op!("DescribeFindings");
    let out = ok!(
        "DescribeFindings",
        sdk.describe_findings()
            .set_finding_arns(Some(strs(&q["findingArns"])))
            .send()
    );
    assert_eq!(out.findings()[0].arn(), s(&r["findings"][0]["arn"]));

    let (q, r) = op!("DescribeResourceGroups");
    let out = ok!(
        "DescribeResourceGroups",
        sdk.describe_resource_groups()
            .set_resource_group_arns(Some(strs(&q["resourceGroupArns"])))
            .send()
    );
    assert_eq!(
        out.resource_groups()[0].arn(),
        s(&r["resourceGroups"][0]["arn"])
    );

    let (q, r) = op!("DescribeRulesPackages");
    let out = ok!(
        "DescribeRulesPackages",
        sdk.describe_rules_packages()
            .set_rules_package_arns(Some(strs(&q["rulesPackageArns"])))
            .send()
    );
    assert_eq!(
        out.rules_packages()[0].arn(),
        s(&r["rulesPackages"][0]["arn"])
    );

    let (q, r) = op!("GetAssessmentReport");
    let out = ok!(
        "GetAssessmentReport",
        sdk.get_assessment_report()
            .assessment_run_arn(s(&q["assessmentRunArn"]))
            .report_file_format(ReportFileFormat::from(s(&q["reportFileFormat"]).as_str()))
            .report_type(ReportType::from(s(&q["reportType"]).as_str()))
            .send()
    );
    assert_eq!(out.status().as_str(), s(&r["status"]));

    let (q, r) = op!("GetExclusionsPreview");
    let out = ok!(
        "GetExclusionsPreview",
        sdk.get_exclusions_preview()
            .assessment_template_arn(s(&q["assessmentTemplateArn"]))
            .preview_token(s(&q["previewToken"]))
            .send()
    );
    assert_eq!(out.preview_status().as_str(), s(&r["previewStatus"]));

    let (q, r) = op!("GetTelemetryMetadata");
    let out = ok!(
        "GetTelemetryMetadata",
        sdk.get_telemetry_metadata()
            .assessment_run_arn(s(&q["assessmentRunArn"]))
            .send()
    );
    assert_eq!(
        out.telemetry_metadata()[0].message_type(),
        s(&r["telemetryMetadata"][0]["messageType"])
    );

    let (q, r) = op!("ListAssessmentRunAgents");
    let out = ok!(
        "ListAssessmentRunAgents",
        sdk.list_assessment_run_agents()
            .assessment_run_arn(s(&q["assessmentRunArn"]))
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(
        out.assessment_run_agents()[0].agent_id(),
        s(&r["assessmentRunAgents"][0]["agentId"])
    );

    let (q, r) = op!("ListAssessmentRuns");
    let out = ok!(
        "ListAssessmentRuns",
        sdk.list_assessment_runs()
            .set_assessment_template_arns(q.get("assessmentTemplateArns").map(strs))
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(out.assessment_run_arns(), strs(&r["assessmentRunArns"]));

    let (q, r) = op!("ListAssessmentTargets");
    let out = ok!(
        "ListAssessmentTargets",
        sdk.list_assessment_targets()
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(
        out.assessment_target_arns(),
        strs(&r["assessmentTargetArns"])
    );

    let (q, r) = op!("ListAssessmentTemplates");
    let out = ok!(
        "ListAssessmentTemplates",
        sdk.list_assessment_templates()
            .set_assessment_target_arns(q.get("assessmentTargetArns").map(strs))
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(
        out.assessment_template_arns(),
        strs(&r["assessmentTemplateArns"])
    );

    let (q, r) = op!("ListEventSubscriptions");
    let out = ok!(
        "ListEventSubscriptions",
        sdk.list_event_subscriptions()
            .set_resource_arn(q.get("resourceArn").map(s))
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(
        out.subscriptions()[0].resource_arn(),
        s(&r["subscriptions"][0]["resourceArn"])
    );

    let (q, r) = op!("ListExclusions");
    let out = ok!(
        "ListExclusions",
        sdk.list_exclusions()
            .assessment_run_arn(s(&q["assessmentRunArn"]))
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(out.exclusion_arns(), strs(&r["exclusionArns"]));

    let (q, r) = op!("ListFindings");
    let out = ok!(
        "ListFindings",
        sdk.list_findings()
            .set_assessment_run_arns(q.get("assessmentRunArns").map(strs))
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(out.finding_arns(), strs(&r["findingArns"]));

    let (q, r) = op!("ListRulesPackages");
    let out = ok!(
        "ListRulesPackages",
        sdk.list_rules_packages()
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(out.rules_package_arns(), strs(&r["rulesPackageArns"]));

    let (q, r) = op!("ListTagsForResource");
    let out = ok!(
        "ListTagsForResource",
        sdk.list_tags_for_resource()
            .resource_arn(s(&q["resourceArn"]))
            .send()
    );
    assert_eq!(out.tags()[0].key(), s(&r["tags"][0]["key"]));

    let (q, r) = op!("PreviewAgents");
    let out = ok!(
        "PreviewAgents",
        sdk.preview_agents()
            .preview_agents_arn(s(&q["previewAgentsArn"]))
            .set_max_results(int(&q["maxResults"]))
            .send()
    );
    assert_eq!(
        out.agent_previews()[0].agent_id(),
        s(&r["agentPreviews"][0]["agentId"])
    );

    let (q, _) = op!("RegisterCrossAccountAccessRole");
    ok!(
        "RegisterCrossAccountAccessRole",
        sdk.register_cross_account_access_role()
            .role_arn(s(&q["roleArn"]))
            .send()
    );

    let (q, r) = op!("RemoveAttributesFromFindings");
    let out = ok!(
        "RemoveAttributesFromFindings",
        sdk.remove_attributes_from_findings()
            .set_finding_arns(Some(strs(&q["findingArns"])))
            .set_attribute_keys(Some(strs(&q["attributeKeys"])))
            .send()
    );
    assert_eq!(
        out.failed_items().len(),
        r["failedItems"].as_object().unwrap().len()
    );

    let (q, _) = op!("SetTagsForResource");
    let tags = q["tags"].as_array().unwrap().iter().map(|t| {
        Tag::builder()
            .key(s(&t["key"]))
            .set_value(t.get("value").map(s))
            .build()
            .unwrap()
    });
    ok!(
        "SetTagsForResource",
        sdk.set_tags_for_resource()
            .resource_arn(s(&q["resourceArn"]))
            .set_tags(Some(tags.collect()))
            .send()
    );

    let (q, r) = op!("StartAssessmentRun");
    let out = ok!(
        "StartAssessmentRun",
        sdk.start_assessment_run()
            .assessment_template_arn(s(&q["assessmentTemplateArn"]))
            .set_assessment_run_name(q.get("assessmentRunName").map(s))
            .send()
    );
    assert_eq!(out.assessment_run_arn(), s(&r["assessmentRunArn"]));

    let (q, _) = op!("StopAssessmentRun");
    ok!(
        "StopAssessmentRun",
        sdk.stop_assessment_run()
            .assessment_run_arn(s(&q["assessmentRunArn"]))
            .send()
    );

    for name in ["SubscribeToEvent", "UnsubscribeFromEvent"] {
        called.insert(name);
        let (q, _) = recorded(name);
        let event = Event::from(s(&q["event"]).as_str());
        let result = if name == "SubscribeToEvent" {
            sdk.subscribe_to_event()
                .resource_arn(s(&q["resourceArn"]))
                .event(event)
                .topic_arn(s(&q["topicArn"]))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{:?}", aws_sdk_inspector::error::DisplayErrorContext(e)))
        } else {
            sdk.unsubscribe_from_event()
                .resource_arn(s(&q["resourceArn"]))
                .event(event)
                .topic_arn(s(&q["topicArn"]))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("{:?}", aws_sdk_inspector::error::DisplayErrorContext(e)))
        };
        result.unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    let (q, _) = op!("UpdateAssessmentTarget");
    ok!(
        "UpdateAssessmentTarget",
        sdk.update_assessment_target()
            .assessment_target_arn(s(&q["assessmentTargetArn"]))
            .assessment_target_name(s(&q["assessmentTargetName"]))
            .set_resource_group_arn(q.get("resourceGroupArn").map(s))
            .send()
    );

    // Every operation of the model was called: none is left out, none is invented.
    let model = conform::model::load_model(
        &Path::new(ROOT).join("cases/inspector/model/inspector-2016-02-16.json"),
    )
    .expect("the model loads");
    let in_model: BTreeSet<&str> = model.operation_names().collect();
    assert_eq!(called, in_model);
    assert_eq!(called.len(), 37);
    let stats = server.replay().stats();
    assert_eq!(
        stats.missed, 0,
        "requests no recording matched: {:?}",
        stats
    );
    assert_eq!(stats.served, 37);
}
