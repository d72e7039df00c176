"""SageMaker workflows as a flytekitplugins-awssagemaker user writes them: deploy, invoke, delete; a training job.

Every SageMaker call is made by the plugin's agents (task types `boto`, `sagemaker-endpoint`,
`sagemaker-training-job`) in the agent server `flyteplane start` runs; the plain `@task`s run as local tasks.
"""

import typing

from flytekit import kwtypes, task, workflow
from flytekit.core.node_creation import create_node
from flytekitplugins.awssagemaker_inference import (
    SageMakerInvokeEndpointTask,
    create_sagemaker_deployment,
    delete_sagemaker_deployment,
)
from flytekitplugins.awssagemaker_training import SageMakerDescribeTrainingJobTask, SageMakerTrainingJobTask

REGION = "us-east-1"

# Model -> endpoint config -> endpoint, names suffixed with the plugin's idempotence tokens (its default).
deployment = create_sagemaker_deployment(
    name="xgboost",
    model_input_types=kwtypes(model_path=str, execution_role_arn=str),
    model_config={
        "ModelName": "xgboost",
        "PrimaryContainer": {"Image": "{images.primary_container_image}", "ModelDataUrl": "{inputs.model_path}"},
        "ExecutionRoleArn": "{inputs.execution_role_arn}",
    },
    endpoint_config_input_types=kwtypes(instance_type=str),
    endpoint_config_config={
        "EndpointConfigName": "xgboost",
        "ProductionVariants": [
            {
                "VariantName": "variant-name-1",
                "ModelName": "xgboost",
                "InitialInstanceCount": 1,
                "InstanceType": "{inputs.instance_type}",
            }
        ],
        "AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://sagemaker-outputs/inference"}},
    },
    endpoint_config={"EndpointName": "xgboost", "EndpointConfigName": "xgboost"},
    images={"primary_container_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7"},
    region=REGION,
)

invoke = SageMakerInvokeEndpointTask(
    name="sagemaker-invoke-xgboost",
    config={"EndpointName": "{inputs.endpoint_name}", "InputLocation": "{inputs.input_location}"},
    region=REGION,
    inputs=kwtypes(endpoint_name=str, input_location=str),
)

teardown = delete_sagemaker_deployment(name="xgboost", region=REGION)


class Names(typing.NamedTuple):
    model: str
    endpoint_config: str
    endpoint: str


@task
def names_of(deployed: list[dict]) -> Names:
    """The names in the ARNs the deployment returned (arn:aws:sagemaker:<region>:<account>:<kind>/<name>)."""
    model, endpoint_config, endpoint = (next(iter(result.values())).split("/", 1)[1] for result in deployed)
    return Names(model, endpoint_config, endpoint)


@workflow
def deploy_invoke_delete(
    model_path: str, execution_role_arn: str, instance_type: str, input_location: str
) -> tuple[list[dict], dict]:
    deployed = deployment(model_path=model_path, execution_role_arn=execution_role_arn, instance_type=instance_type)
    names = names_of(deployed=deployed)
    invoked = create_node(invoke, endpoint_name=names.endpoint, input_location=input_location)
    deleted = create_node(
        teardown, endpoint_name=names.endpoint, endpoint_config_name=names.endpoint_config, model_name=names.model
    )
    invoked >> deleted
    return deployed, invoked.result


@workflow
def deploy(model_path: str, execution_role_arn: str, instance_type: str) -> list[dict]:
    return deployment(model_path=model_path, execution_role_arn=execution_role_arn, instance_type=instance_type)


train = SageMakerTrainingJobTask(
    name="sagemaker-train-xgboost",
    config={
        "TrainingJobName": "{inputs.job_name}",
        "RoleArn": "{inputs.execution_role_arn}",
        "AlgorithmSpecification": {
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7",
            "TrainingInputMode": "File",
        },
        "HyperParameters": {"max_depth": "5", "num_round": "10"},
        "OutputDataConfig": {"S3OutputPath": "{inputs.output_path}"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    },
    region=REGION,
    inputs=kwtypes(job_name=str, execution_role_arn=str, output_path=str),
)

describe = SageMakerDescribeTrainingJobTask(
    name="sagemaker-describe-training-job",
    config={"TrainingJobName": "{inputs.job_name}"},
    region=REGION,
    inputs=kwtypes(job_name=str),
)


@task
def status_of(description: dict) -> str:
    return f"{description['TrainingJobStatus']} {description['HyperParameters']['max_depth']}"


@workflow
def train_and_describe(job_name: str, execution_role_arn: str, output_path: str) -> tuple[dict, str]:
    trained = create_node(train, job_name=job_name, execution_role_arn=execution_role_arn, output_path=output_path)
    described = create_node(describe, job_name=job_name)
    trained >> described
    return trained.result, status_of(description=described.result)


@workflow
def describe_only(job_name: str) -> dict:
    return describe(job_name=job_name).result
