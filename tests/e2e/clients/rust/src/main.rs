//! Lists projects, launches a registered launch plan with typed inputs through the tonic client
//! generated from flyteplane's idl/, waits for the execution to succeed and prints one JSON line
//! with what it read.
use std::time::Duration;

use flyteidl::flyteidl::admin;
use flyteidl::flyteidl::core;
use flyteidl::flyteidl::service::admin_service_client::AdminServiceClient;

fn primitive(value: core::primitive::Value) -> core::Literal {
    core::Literal {
        // prost boxes the scalar: Literal and Scalar are mutually recursive (through unions).
        value: Some(core::literal::Value::Scalar(Box::new(core::Scalar {
            value: Some(core::scalar::Value::Primitive(core::Primitive { value: Some(value) })),
        }))),
        ..Default::default()
    }
}

fn primitive_of(literal: Option<&core::Literal>) -> Option<&core::primitive::Value> {
    match literal?.value.as_ref()? {
        core::literal::Value::Scalar(scalar) => match scalar.value.as_ref()? {
            core::scalar::Value::Primitive(p) => p.value.as_ref(),
            _ => None,
        },
        _ => None,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| args.iter().position(|a| a == flag).map(|i| args[i + 1].clone()).unwrap_or_default();
    let (project, domain, name) = (arg("--project"), arg("--domain"), arg("--execution"));

    let mut client = AdminServiceClient::connect(format!("http://{}", arg("--admin"))).await?;
    let projects = client.list_projects(admin::ProjectListRequest::default()).await?.into_inner();
    let project_ids: Vec<String> = projects.projects.iter().map(|p| format!("{:?}", p.id)).collect();

    let integer = |v: i64| primitive(core::primitive::Value::Integer(v));
    let inputs = core::LiteralMap {
        literals: [
            ("n".to_string(), integer(3)),
            ("word".to_string(), primitive(core::primitive::Value::StringValue("ab".into()))),
            ("scale".to_string(), primitive(core::primitive::Value::FloatValue(1.5))),
            (
                "xs".to_string(),
                core::Literal {
                    value: Some(core::literal::Value::Collection(core::LiteralCollection {
                        literals: vec![integer(4), integer(5)],
                    })),
                    ..Default::default()
                },
            ),
        ]
        .into_iter()
        .collect(),
    };
    let created = client
        .create_execution(admin::ExecutionCreateRequest {
            project: project.clone(),
            domain: domain.clone(),
            name,
            spec: Some(admin::ExecutionSpec {
                launch_plan: Some(core::Identifier {
                    resource_type: core::ResourceType::LaunchPlan as i32,
                    project,
                    domain,
                    name: arg("--launch-plan"),
                    version: arg("--version"),
                    ..Default::default()
                }),
                metadata: Some(admin::ExecutionMetadata {
                    mode: admin::execution_metadata::ExecutionMode::Manual as i32,
                    principal: "rust-client".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            inputs: Some(inputs),
            ..Default::default()
        })
        .await?
        .into_inner();
    let id = created.id.ok_or("CreateExecution answered no id")?;

    use core::workflow_execution::Phase;
    let phase = loop {
        let execution = client
            .get_execution(admin::WorkflowExecutionGetRequest { id: Some(id.clone()) })
            .await?
            .into_inner();
        let phase = Phase::try_from(execution.closure.map(|c| c.phase).unwrap_or_default())?;
        if matches!(phase, Phase::Succeeded | Phase::Failed | Phase::Aborted | Phase::TimedOut) {
            break phase;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let data = client
        .get_execution_data(admin::WorkflowExecutionGetDataRequest { id: Some(id.clone()) })
        .await?
        .into_inner();
    let outputs = data.full_outputs.unwrap_or_default().literals;
    let o0 = match primitive_of(outputs.get("o0")) { Some(core::primitive::Value::Integer(v)) => *v, _ => -1 };
    let o1 = match primitive_of(outputs.get("o1")) { Some(core::primitive::Value::StringValue(v)) => v.clone(), _ => String::new() };
    let o2 = match primitive_of(outputs.get("o2")) { Some(core::primitive::Value::FloatValue(v)) => *v, _ => f64::NAN };
    // {:?} of a String or &str is a quoted, escaped string: valid JSON for these ASCII values.
    println!(
        "{{\"projects\": [{}], \"execution\": {:?}, \"phase\": {:?}, \"outputs\": {{\"o0\": {}, \"o1\": {:?}, \"o2\": {:?}}}}}",
        project_ids.join(", "), id.name, phase.as_str_name(), o0, o1, o2
    );
    Ok(())
}
