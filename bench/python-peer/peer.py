"""The Python peer for the loopback benchmark.

What Tencent's Python templates do for this job, written as an SCF custom runtime: a loop
on the runtime API that stores each event in COS with cos-python-sdk-v5's put_object. It
does the same work as mps-cos-backup on the hot path (parse the event, build a small
record, PUT it with Content-MD5 under a digest key) so the two are compared like for like.
It is benchmark-only code: never deployed, never a dependency of the project.
"""
import datetime
import hashlib
import json
import os
import sys

import requests
from qcloud_cos import CosConfig, CosS3Client


def main():
    api = "http://%s:%s/runtime" % (os.environ["SCF_RUNTIME_API"], os.environ["SCF_RUNTIME_API_PORT"])
    endpoint = os.environ["COS_ENDPOINT"]  # e.g. http://127.0.0.1:PORT
    scheme, _, domain = endpoint.partition("://")
    ip, _, port = domain.partition(":")
    bucket = os.environ["COS_BUCKET"]
    prefix = os.environ.get("COS_KEY_PREFIX", "mps-events/")
    cos = CosS3Client(
        CosConfig(
            Region=os.environ.get("COS_REGION", "ap-guangzhou"),
            SecretId=os.environ["TENCENTCLOUD_SECRETID"],
            SecretKey=os.environ["TENCENTCLOUD_SECRETKEY"],
            Token=os.environ.get("TENCENTCLOUD_SESSIONTOKEN"),
            Scheme=scheme,
            # The SDK signs `host` as the URL's hostname WITHOUT the port, but sends Host with
            # it; on a non-default port (the loopback fake) that signature cannot match. Its
            # IP/Port options make it send and sign an explicit Host (= Domain) instead, which is
            # what a real request to <bucket>.cos.<region>.myqcloud.com:443 signs anyway.
            Domain=domain,
            IP=ip,
            Port=int(port) if port else None,
        )
    )
    rt = requests.Session()
    rt.post(api + "/init/ready", data=b" ")
    while True:
        nxt = rt.get(api + "/invocation/next")
        body = nxt.content
        try:
            event = json.loads(body)
            task = event.get("WorkflowTaskEvent") or event.get("EditMediaTaskEvent") or {}
            record = {
                "schema": "python-peer/v1",
                "event_type": event.get("EventType"),
                "task_id": task.get("TaskId"),
                "status": task.get("Status"),
                "received_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "request_id": nxt.headers.get("request_id"),
                "event": event,
            }
            data = json.dumps(record).encode()
            digest = hashlib.sha1(json.dumps(event, sort_keys=True).encode()).hexdigest()[:16]
            day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
            key = "%s%s/%s/%s.%s.%s.json" % (
                prefix, record["event_type"], day, task.get("TaskId", "no-task-id"),
                str(task.get("Status", "unknown")).lower(), digest,
            )
            resp = cos.put_object(
                Bucket=bucket, Key=key, Body=data, ContentType="application/json", EnableMD5=True
            )
            out = {"bucket": bucket, "key": key, "etag": resp.get("ETag"), "bytes": len(data)}
            rt.post(api + "/invocation/response", data=json.dumps(out).encode())
        except Exception as e:  # the template's style: report and go on
            rt.post(api + "/invocation/error", data=str(e).encode()[:1000])


if __name__ == "__main__":
    sys.exit(main())
