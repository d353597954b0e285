/**
 * The serverless deployment of Nedlia on AWS, as code (aws-cdk-lib). docs/deployment.md
 * says how to deploy it, migrate, roll back and rotate secrets.
 *
 * - HTTP API (API Gateway, payload 2.0) → the API function (src/entry/lambda/api-handler.ts).
 * - An EventBridge bus the relay publishes to; per consumer one rule (its event types) → one
 *   SQS queue → the consumer's function (partial batch responses), each queue with a
 *   dead-letter queue that keeps messages longer than the queue does, and a visibility
 *   timeout of 6× the function's timeout.
 * - The relay (outbox → EventBridge) and the background workers (webhook dispatch, sync
 *   snapshots) every minute, the maintenance tasks every hour.
 * - S3: placement files (read by the public through CloudFront, the bucket itself private),
 *   media and archives (private, encrypted, TLS only).
 * - Aurora PostgreSQL Serverless v2 in isolated subnets, behind RDS Proxy, its credentials
 *   a Secrets Manager secret that only the proxy reads; the functions sign in to the proxy
 *   with IAM auth tokens (`rds-db:connect`, DATABASE_IAM_AUTH=1), over TLS.
 * - A Cognito user pool (groups admin, advertiser, creator; `custom:advertiser_id`) and app
 *   client whose tokens the API verifies as any other issuer's (AUTH_JWKS_URL, AUTH_ISSUER,
 *   AUTH_AUDIENCE).
 * - CORS origins from configuration (`corsOrigins`), at the HTTP API and in the function.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** What the stack needs to know of a consumer (src/entry/consumers.ts, read by deploy/app.ts). */
export interface ConsumerSpec {
  name: string;
  types: readonly string[];
  /** The runtime's attempts before it dead-letters in the database. */
  maxAttempts?: number;
}

export interface NedliaStackProps extends StackProps {
  consumers: readonly ConsumerSpec[];
  /** The code of a function by bundle name (`api`, `relay`, `maintenance`, `consumer-<name>`). */
  code: (bundle: string) => lambda.Code;
  /** Exact origins browsers may call the API from. */
  corsOrigins: readonly string[];
  /** SQS queue names are this + the consumer's name (`SQS_QUEUE_PREFIX`). */
  queuePrefix?: string;
  /** `RemovalPolicy.RETAIN` (default) keeps the database and buckets when the stack is deleted. */
  removalPolicy?: RemovalPolicy;
}

/** Function timeouts (seconds); a queue's visibility timeout is CONSUMER_VISIBILITY_FACTOR × its function's. */
export const TIMEOUTS = { api: 29, consumer: 30, relay: 60, maintenance: 300, workers: 90 } as const;
export const CONSUMER_VISIBILITY_FACTOR = 6;
const QUEUE_RETENTION = Duration.days(4);
const DLQ_RETENTION = Duration.days(14);
/** Key prefix of the placement files in their bucket (features/placement-files: `storagePrefixOf`). */
const PLACEMENT_FILES_PREFIX = 'placement-files';
/**
 * What each consumer that touches object storage keeps there, so its function gets that
 * bucket as S3_BUCKET and may read and write it: the placement files (public through the CDN)
 * or media (downloads, transcripts: private). Every other function gets media as S3_BUCKET
 * and no access to it.
 */
export const CONSUMER_STORAGE: Readonly<Record<string, 'placement-files' | 'media'>> = {
  'placement-file-generator': 'placement-files',
  'video-analyser': 'media',
  'video-assets-cleaner': 'media',
};
/** The runtime's default maximum attempts (platform/events/retry-policy.ts). */
const DEFAULT_MAX_ATTEMPTS = 5;
/**
 * Receives a message gets past the runtime's maximum before SQS moves it to the queue's DLQ.
 * While the database cannot be reached the runtime cannot dead-letter: each receive past its
 * maximum comes again after the queue's visibility timeout (180 s), so 10 of them ride out an
 * outage of about half an hour before a message leaves for the DLQ.
 */
const RECEIVES_BEYOND_ATTEMPTS = 10;
const EVENT_SOURCE = 'nedlia';
const DATABASE_NAME = 'nedlia';
/** The database user the functions connect as (the cluster's master user, its password in the secret). */
const DATABASE_USER = 'nedlia';
/** Characters left out of the generated password, so it can stand in a URL unescaped (an operator's `psql` through the proxy, a worker's DATABASE_URL). */
const NOT_IN_PASSWORD = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\=,^.';

export class NedliaStack extends Stack {
  readonly apiFunction: lambda.Function;
  readonly consumerFunctions = new Map<string, lambda.Function>();

  constructor(scope: Construct, id: string, props: NedliaStackProps) {
    super(scope, id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const queuePrefix = props.queuePrefix ?? 'nedlia-';

    // Network: functions in private subnets (egress to AWS APIs through NAT), the database isolated.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
        { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    const functionsSg = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', { vpc, description: 'Nedlia functions' });

    // Database: Aurora PostgreSQL Serverless v2 behind RDS Proxy.
    const cluster = new rds.DatabaseCluster(this, 'Database', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_9 }),
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER, { excludeCharacters: NOT_IN_PASSWORD }),
      defaultDatabaseName: DATABASE_NAME,
      writer: rds.ClusterInstance.serverlessV2('writer'),
      readers: [rds.ClusterInstance.serverlessV2('reader', { scaleWithWriter: true })],
      serverlessV2MinCapacity: 0.5,
      serverlessV2MaxCapacity: 16,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      storageEncrypted: true,
      // The point-in-time recovery window (docs/deployment.md).
      backup: { retention: Duration.days(14), preferredWindow: '03:00-04:00' },
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
      cloudwatchLogsExports: ['postgresql'],
    });
    const secret = cluster.secret!;
    // The functions sign in to the proxy with IAM auth tokens (rds-db:connect, granted below);
    // the proxy signs in to Aurora with the secret, which the functions never see.
    const proxy = cluster.addProxy('Proxy', { secrets: [secret], vpc, requireTLS: true, iamAuth: true, securityGroups: [new ec2.SecurityGroup(this, 'ProxySecurityGroup', { vpc })] });
    proxy.connections.allowFrom(functionsSg, ec2.Port.tcp(5432), 'functions to RDS Proxy');
    cluster.connections.allowFrom(proxy, ec2.Port.tcp(5432), 'RDS Proxy to Aurora');
    // No password: each connection's is an IAM auth token (DATABASE_IAM_AUTH), over TLS with the proxy's certificate checked.
    const databaseUrl = `postgres://${DATABASE_USER}@${proxy.endpoint}:5432/${DATABASE_NAME}?sslmode=verify-full`;

    // Object storage.
    const privateBucket = (id: string, extra: Partial<s3.BucketProps> = {}) =>
      new s3.Bucket(this, id, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        removalPolicy,
        ...extra,
      });
    const placementFiles = privateBucket('PlacementFilesBucket');
    const media = privateBucket('MediaBucket');
    const archives = privateBucket('ArchivesBucket', {
      versioned: true,
      lifecycleRules: [{ transitions: [{ storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) }] }],
    });
    const cdn = new cloudfront.Distribution(this, 'PlacementFilesCdn', {
      defaultBehavior: {
        // Only the files under placement-files/ (the generator's keys) are public: /<video>/v….json.
        origin: origins.S3BucketOrigin.withOriginAccessControl(placementFiles, { originPath: `/${PLACEMENT_FILES_PREFIX}` }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      comment: 'Nedlia placement files, read by the video SDK',
    });

    // Identity: Cognito, whose tokens the API verifies like any issuer's.
    const userPool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      customAttributes: { advertiser_id: new cognito.StringAttribute({ mutable: true }) },
      passwordPolicy: { minLength: 12 },
      removalPolicy,
    });
    for (const group of ['admin', 'advertiser', 'creator']) {
      new cognito.CfnUserPoolGroup(this, `Group-${group}`, { userPoolId: userPool.userPoolId, groupName: group });
    }
    const appClient = userPool.addClient('ApiClient', { authFlows: { userSrp: true }, generateSecret: false });
    const issuer = `https://cognito-idp.${this.region}.amazonaws.com/${userPool.userPoolId}`;

    // Events: the relay publishes to the bus; one rule and queue per consumer.
    const bus = new events.EventBus(this, 'Events', { eventBusName: `${this.stackName}-events` });

    const common: Record<string, string> = {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      DATABASE_IAM_AUTH: '1',
      DATABASE_POOL_SIZE: '2',
      EVENT_BUS: 'sqs',
      EVENTBRIDGE_BUS_NAME: bus.eventBusName,
      SQS_QUEUE_PREFIX: queuePrefix,
      STORAGE: 's3',
      // Media by default; the API and the placement-file generator get the placement files' bucket (CONSUMER_STORAGE).
      S3_BUCKET: media.bucketName,
      LOG_LEVEL: 'info',
    };
    const fn = (id: string, bundle: string, timeout: number, environment: Record<string, string> = {}, extra: Partial<lambda.FunctionProps> = {}) => {
      const created = new lambda.Function(this, id, {
        // Node.js 20 is deprecated on Lambda; the bundles (ESM, target node20) run unchanged on 24.
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        handler: 'index.handler',
        code: props.code(bundle),
        memorySize: 1024,
        timeout: Duration.seconds(timeout),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [functionsSg],
        environment: { ...common, ...environment },
        logGroup: new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        ...extra,
      });
      // Every function connects to the database through the proxy, as DATABASE_USER.
      proxy.grantConnect(created, DATABASE_USER);
      return created;
    };
    // What the SQS bus does when it publishes (it finds each consumer's queue first) and pings.
    const busAccess = (f: lambda.Function) => {
      bus.grantPutEventsTo(f);
      f.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:GetQueueUrl', 'sqs:ListQueues'], resources: ['*'] }));
    };

    this.apiFunction = fn('ApiFunction', 'api', TIMEOUTS.api, {
      AUTH_JWKS_URL: `${issuer}/.well-known/jwks.json`,
      AUTH_ISSUER: issuer,
      AUTH_AUDIENCE: appClient.userPoolClientId,
      CORS_ORIGINS: props.corsOrigins.join(','),
      // API Gateway is the one proxy in front: its source address is the client's.
      TRUST_PROXY: '0',
    });
    busAccess(this.apiFunction);
    // The API serves the placement files (GET /v1/videos/{id}/placement-file) and sync snapshots from its bucket.
    this.apiFunction.addEnvironment('S3_BUCKET', placementFiles.bucketName);
    placementFiles.grantRead(this.apiFunction);

    const httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Nedlia API',
      corsPreflight:
        props.corsOrigins.length > 0
          ? {
              allowOrigins: [...props.corsOrigins],
              allowMethods: [apigw.CorsHttpMethod.ANY],
              allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match', 'x-request-id'],
              exposeHeaders: ['etag', 'location', 'x-request-id', 'retry-after', 'idempotent-replayed'],
              maxAge: Duration.hours(1),
            }
          : undefined,
      defaultIntegration: new HttpLambdaIntegration('ApiIntegration', this.apiFunction, { payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0 }),
    });

    const relay = fn('RelayFunction', 'relay', TIMEOUTS.relay, {}, { reservedConcurrentExecutions: 1 });
    busAccess(relay);
    new events.Rule(this, 'RelaySchedule', { schedule: events.Schedule.rate(Duration.minutes(1)), targets: [new targets.LambdaFunction(relay)] });

    const maintenance = fn('MaintenanceFunction', 'maintenance', TIMEOUTS.maintenance, { DATABASE_BACKGROUND_QUERY_TIMEOUT_MS: String(TIMEOUTS.maintenance * 1000 - 10_000) });
    new events.Rule(this, 'MaintenanceSchedule', { schedule: events.Schedule.rate(Duration.hours(1)), targets: [new targets.LambdaFunction(maintenance)] });
    archives.grantReadWrite(maintenance);

    // The background workers (webhook dispatch, sync snapshots): every minute, each invocation
    // running them for its timeout less WEBHOOK_TIMEOUT_MS + 5 s, so one is always running; the
    // sync worker writes its snapshots to the bucket the API serves them from.
    const workers = fn('WorkersFunction', 'workers', TIMEOUTS.workers, { S3_BUCKET: placementFiles.bucketName });
    placementFiles.grantReadWrite(workers);
    new events.Rule(this, 'WorkersSchedule', { schedule: events.Schedule.rate(Duration.minutes(1)), targets: [new targets.LambdaFunction(workers)] });

    for (const consumer of props.consumers) {
      const id = pascal(consumer.name);
      const dlq = new sqs.Queue(this, `${id}DeadLetters`, {
        queueName: `${queuePrefix}${consumer.name}-dlq`,
        retentionPeriod: DLQ_RETENTION,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new sqs.Queue(this, `${id}Queue`, {
        queueName: `${queuePrefix}${consumer.name}`,
        retentionPeriod: QUEUE_RETENTION,
        visibilityTimeout: Duration.seconds(TIMEOUTS.consumer * CONSUMER_VISIBILITY_FACTOR),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // The runtime dead-letters an event in the database at its last attempt (replayable
        // from the admin API); the queue's DLQ takes only what never reached the runtime.
        deadLetterQueue: { queue: dlq, maxReceiveCount: (consumer.maxAttempts ?? DEFAULT_MAX_ATTEMPTS) + RECEIVES_BEYOND_ATTEMPTS },
      });
      new events.Rule(this, `${id}Rule`, {
        eventBus: bus,
        eventPattern: { source: [EVENT_SOURCE], detailType: [...consumer.types] },
        targets: [new targets.SqsQueue(queue)],
      });
      const storage = CONSUMER_STORAGE[consumer.name];
      const bucket = storage === 'placement-files' ? placementFiles : media;
      const handler = fn(`${id}Function`, `consumer-${consumer.name}`, TIMEOUTS.consumer, { S3_BUCKET: bucket.bucketName });
      if (storage) bucket.grantReadWrite(handler);
      handler.addEventSource(new SqsEventSource(queue, { batchSize: 10, maxBatchingWindow: Duration.seconds(1), reportBatchItemFailures: true }));
      busAccess(handler);
      this.consumerFunctions.set(consumer.name, handler);
    }

    new CfnOutput(this, 'ApiUrl', { value: httpApi.apiEndpoint });
    new CfnOutput(this, 'PlacementFilesUrl', { value: `https://${cdn.distributionDomainName}` });
    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: appClient.userPoolClientId });
    new CfnOutput(this, 'MaintenanceFunctionName', { value: maintenance.functionName });
    new CfnOutput(this, 'DatabaseSecretArn', { value: secret.secretArn });
    new CfnOutput(this, 'ArchivesBucketName', { value: archives.bucketName });
  }
}

const pascal = (name: string): string => name.split(/[^A-Za-z0-9]+/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
