"""The ground floor that CDK code and operator tools both stand on.

Config schema, the SageMaker pipeline definition language, the contract validator (botocore
service models and the developer guide's documented limits), the container contract, the
bucket layout and the image table. Nothing here imports aws_cdk, `ml_constructs`, `stacks`
or the operator tools in `sagestack`.
"""
