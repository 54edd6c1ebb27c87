"""Local AWS emulator for rdsbk-provision's tests (see tests/emulator/README.md).

Owners: core, IAM, STS and KMS (core.py, iam.py, sts.py, kms.py) belong to H3; EventBridge,
Lambda and RDS (events.py, lambda_svc.py, rds.py) to H4. The core discovers the service modules
listed in core.SERVICE_MODULES and instantiates every class in them that has a SERVICE attribute.
"""
