"""chuchuang's serverless side: standard library and boto3 only."""
