"""A spark task's SparkJob custom and the Spark conf it asks for, read alike by the spark-operator backend
(`plugins.k8s.spark`) and the Kubernetes-free one (`plugins.spark_local`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from google.protobuf import json_format

from flyteidl_py.plugins import spark_pb2
from plugins.core import BadTaskDefinition, TaskExecutionContext

_FEATURE = re.compile(r"^spark\.(?:flyteorg|flyte)\.(.+)\.enabled$")


def spark_job(ctx: TaskExecutionContext) -> spark_pb2.SparkJob:
    """The task's SparkJob custom; BadTaskDefinition if it has none or names no application."""
    if not ctx.template.HasField("custom"):
        raise BadTaskDefinition("a spark task needs its SparkJob in the template's custom field")
    job = spark_pb2.SparkJob()
    json_format.ParseDict(json_format.MessageToDict(ctx.template.custom), job, ignore_unknown_fields=True)
    if not job.mainApplicationFile and not job.mainClass:
        raise BadTaskDefinition("the SparkJob names neither a main application file nor a main class")
    return job


def spark_conf(
    job: spark_pb2.SparkJob, defaults: Mapping[str, str], features: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """The Spark conf of a job: platform defaults, the executor Python, the job's conf with features expanded."""
    conf = dict(defaults)
    if job.executorPath:
        conf["spark.pyspark.python"] = job.executorPath
        conf["spark.pyspark.driver.python"] = job.executorPath
    for key, value in job.sparkConf.items():
        feature = _FEATURE.match(key)
        if feature and value.lower() == "true" and feature.group(1) in features:
            conf.update(features[feature.group(1)])
            continue
        conf[key] = value
    return conf
