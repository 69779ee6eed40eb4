import {
  Body,
  Controller,
  Get,
  type INestApplication,
  Module,
  NotFoundException,
  Param,
  Post,
  type Type,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, getRepositoryToken, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { Column, DataSource, Entity, PrimaryColumn, Repository } from 'typeorm';
import { buildDataSourceOptions as iamDataSourceOptions } from '../src/database/data-source-options.js';
import { runMigrations as runIamMigrations } from '../src/database/run-migrations.js';
import { ACCESS_KEY, type AccessRule, CurrentPrincipal, Public, RequireAction } from '../src/auth/access.decorators.js';
import { AuthModule } from '../src/auth/auth.module.js';
import { AuthenticationGuard } from '../src/auth/authentication.guard.js';
import { AuthorizationGuard } from '../src/auth/authorization.guard.js';
import { IamAuthGuard } from '../src/auth/iam-auth.guard.js';
import { IAM_CONTROLLER } from '../src/auth/iam-controller.decorator.js';
import type { Principal } from '../src/auth/principal.js';
import { IamCoreModule } from '../src/iam-core.module.js';
import { IAM_FEATURE_MODULES, IamModule } from '../src/iam.module.js';
import { IamOptionsError, type IamModuleOptions } from '../src/iam.options.js';
import { setupIamSwagger } from '../src/openapi/swagger-ui.js';
import { ADMIN_TOKEN, createTestDatabase, TEST_DATABASES, type TestDatabase } from './utils/create-app.js';
import { uniqueName } from './utils/fixtures.js';
import { iamControllers } from './utils/routes.js';

const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The IAM options every host here uses: cheap argon2, generous limits. */
const iamOptions = (database: TestDatabase): IamModuleOptions => ({
  database: { url: database.url },
  bootstrapToken: ADMIN_TOKEN,
  passwordHash: { memoryKib: 1024, timeCost: 1, parallelism: 1 },
  allowWeakPasswordHash: true,
  signIn: { rateLimit: 1000, authFailureLimit: 1000 },
  actions: ['widgets:Read'],
});

// --- a host platform --------------------------------------------------------------------------------------

@Entity('widgets')
class Widget {
  @PrimaryColumn() id: number;
  @Column() name: string;
}

class EchoDto {
  name?: string;
}

@Controller()
class HostController {
  constructor(@InjectRepository(Widget) private readonly widgets: Repository<Widget>) {}

  @Get('status')
  status() {
    return { status: 'ok' };
  }

  @Get('widgets/:id')
  @UseGuards(IamAuthGuard)
  @RequireAction('widgets:Read', 'widgets:widget:{id}')
  async widget(@Param('id') id: string, @CurrentPrincipal() principal: Principal) {
    const widget = await this.widgets.findOneBy({ id: Number(id) || -1 });
    if (!widget) {
      throw new NotFoundException(`Widget ${id} not found`);
    }
    return { ...widget, read_by: principal.name };
  }

  @Post('widgets/echo-form')
  echo(@Body() body: EchoDto) {
    return body;
  }

  @Post('widgets/check')
  check(@Body() body: EchoDto) {
    if (!body.name) {
      throw new UnprocessableEntityException('name is required');
    }
    return body;
  }

  @Get('private')
  @Public()
  openByIamPublic() {
    return { open: true };
  }

  @Get('private/closed')
  closedWhenProtected() {
    return { open: true };
  }
}

function hostModule(database: TestDatabase, hostFile: string, iam: { protectAllRoutes?: boolean } = {}): Type {
  @Module({
    imports: [
      // The host's own default DataSource, beside the IAM's.
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: hostFile, entities: [Widget], synchronize: true }),
      TypeOrmModule.forFeature([Widget]),
      IamModule.forRootAsync({
        routePrefix: 'iam/api/v1',
        protectAllRoutes: iam.protectAllRoutes,
        useFactory: () => ({ ...iamOptions(database), swagger: { path: 'iam/docs' } }),
      }),
    ],
    controllers: [HostController],
  })
  class HostModule {}
  return HostModule;
}

async function boot(module: Type, beforeInit?: (app: INestApplication) => void): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  // Nest's defaults, as a host would have them: its own body parser on, its own logger off for the test.
  const app = moduleRef.createNestApplication({ logger: false });
  beforeInit?.(app);
  await app.init();
  return app;
}

describe.each(TEST_DATABASES)('IamModule in a host platform (%s)', (kind) => {
  let database: TestDatabase;
  let hostDatabase: TestDatabase;
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    hostDatabase = await createTestDatabase('sqlite');
    app = await boot(hostModule(database, hostDatabase.url.slice('sqlite:'.length)), setupIamSwagger);
    await app.get(getWidgetRepositoryToken()).save([
      { id: 1, name: 'one' },
      { id: 2, name: 'two' },
    ]);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
    await hostDatabase?.drop();
  });

  it('serves the IAM under the prefix, with its own error body and authentication', async () => {
    const name = uniqueName();
    await http().post('/iam/api/v1/users').set(admin).send({ name }).expect(201);
    const res = await http().get(`/iam/api/v1/users/${name}`).expect(401);
    expect(res.body).toMatchObject({ type: 'unauthorised', status: 401 });
    expect(res.headers['x-request-id']).toEqual(res.body.request_id);
    const bad = await http().post('/iam/api/v1/users').set(admin).send({ name: '' }).expect(400);
    expect(bad.body).toMatchObject({ type: 'bad_request', status: 400 });
    // Nothing of the IAM is at the root.
    await http().get('/api/v1/users').set(admin).expect(404);
  });

  it('serves the IAM’s own Swagger UI and document where the host asks, with the IAM’s routes only', async () => {
    const document = await http().get('/iam/docs-json').expect(200);
    const paths = Object.keys(document.body.paths as object);
    expect(paths).toContain('/iam/api/v1/users');
    expect(paths.filter((path) => !path.startsWith('/iam/api/v1/') && path !== '/health')).toEqual([]);
    expect((await http().get('/iam/docs/').redirects(1).expect(200)).text).toContain('swagger-ui');
  });

  it('leaves the host’s own routes as they are: public, 404 message, 422, form bodies, unknown routes', async () => {
    expect((await http().get('/status').expect(200)).body).toEqual({ status: 'ok' });
    expect((await http().get('/private/closed').expect(200)).body).toEqual({ open: true });
    const missing = await http().get('/widgets/42').set(admin).expect(404);
    expect(missing.body).toEqual({ message: 'Widget 42 not found', error: 'Not Found', statusCode: 404 });
    const unprocessable = await http().post('/widgets/check').send({}).expect(422);
    expect(unprocessable.body).toEqual({
      message: 'name is required',
      error: 'Unprocessable Entity',
      statusCode: 422,
    });
    const form = await http().post('/widgets/echo-form').type('form').send('name=gizmo&colour=red').expect(201);
    expect(form.body).toEqual({ name: 'gizmo', colour: 'red' });
    const unknown = await http().get('/nowhere').expect(404);
    expect(unknown.body).toEqual({ message: 'Cannot GET /nowhere', error: 'Not Found', statusCode: 404 });
    expect(unknown.headers['x-request-id']).toBeUndefined();
  });

  it('guards a host route with IamAuthGuard and @RequireAction, on the host’s own actions', async () => {
    const anonymous = await http().get('/widgets/1').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="iam"');
    const role = uniqueName('r');
    await http()
      .post('/iam/api/v1/roles')
      .set(admin)
      .send({ name: role, policy: [{ effect: 'allow', action: ['widgets:Read'], resource: ['widgets:widget:1'] }] })
      .expect(201);
    const group = uniqueName('g');
    await http()
      .post('/iam/api/v1/groups')
      .set(admin)
      .send({ name: group, roles: [role] })
      .expect(201);
    const reader = await http()
      .post('/iam/api/v1/service-accounts')
      .set(admin)
      .send({ name: uniqueName('sa') });
    await http()
      .put(`/iam/api/v1/service-accounts/${reader.body.name}/groups`)
      .set(admin)
      .send({ set_groups: [group] })
      .expect(200);
    const outsider = await http()
      .post('/iam/api/v1/service-accounts')
      .set(admin)
      .send({ name: uniqueName('sa') });

    const read = await http().get('/widgets/1').set(bearer(reader.body.token)).expect(200);
    expect(read.body).toEqual({ id: 1, name: 'one', read_by: reader.body.name });
    await http().get('/widgets/2').set(bearer(reader.body.token)).expect(403);
    await http().get('/widgets/1').set(bearer(outsider.body.token)).expect(403);
    // A `*` in the parameter is not a wildcard.
    await http().get('/widgets/*').set(bearer(reader.body.token)).expect(403);

    // The refusals on the host's routes are in the IAM's audit trail, with the host's action and resource.
    const denied = await http()
      .get('/iam/api/v1/audit-events')
      .query({ actor: reader.body.name, outcome: 'denied' })
      .set(admin)
      .expect(200);
    expect(denied.body.items).toEqual([
      expect.objectContaining({ action: 'widgets:Read', target: 'widgets:widget:{id}' }),
      expect.objectContaining({ action: 'widgets:Read', target: 'widgets:widget:2' }),
    ]);
  });

  it('accepts the host’s registered actions in policies, and still refuses unknown ones', async () => {
    await http()
      .post('/iam/api/v1/roles')
      .set(admin)
      .send({ name: uniqueName('r'), policy: [{ effect: 'allow', action: ['widgets:*'], resource: ['widgets:*'] }] })
      .expect(201);
    const unknown = await http()
      .post('/iam/api/v1/roles')
      .set(admin)
      .send({ name: uniqueName('r'), policy: [{ effect: 'allow', action: ['gadgets:Read'], resource: ['*'] }] })
      .expect(400);
    expect(unknown.body).toMatchObject({ type: 'bad_request' });
  });
});

/** @nestjs/typeorm's token for the host's Widget repository, on its default DataSource. */
const getWidgetRepositoryToken = () => getRepositoryToken(Widget);

describe('IamModule options', () => {
  let database: TestDatabase;
  let hostDatabase: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    hostDatabase = await createTestDatabase('sqlite');
  });
  afterAll(async () => {
    await database?.drop();
    await hostDatabase?.drop();
  });

  it('closes every host route with protectAllRoutes, except those marked @Public()', async () => {
    const app = await boot(hostModule(database, hostDatabase.url.slice('sqlite:'.length), { protectAllRoutes: true }));
    try {
      const http = () => request(app.getHttpServer());
      await http().get('/private/closed').expect(401);
      await http().get('/private/closed').set(admin).expect(200);
      await http().get('/private').expect(200);
      await http().get('/iam/api/v1/users').expect(401);
    } finally {
      await app.close();
    }
  });

  it('refuses bad options at boot with a message naming each one', async () => {
    @Module({
      imports: [
        IamModule.forRoot({
          database: { url: 'mysql://nope' },
          session: { ttlMinutes: 0 },
          actions: ['iam:Steal'],
          swagger: { path: 'two words' },
        }),
      ],
    })
    class BadHost {}
    const error = await boot(BadHost).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(IamOptionsError);
    for (const named of ['database.url', 'session.ttlMinutes', 'actions', 'swagger: must be true, false']) {
      expect((error as Error).message).toContain(named);
    }
  });

  it('refuses a schema for SQLite', async () => {
    @Module({ imports: [IamModule.forRoot({ database: { url: 'sqlite:x.sqlite', schema: 'iam' } })] })
    class SqliteSchemaHost {}
    await expect(boot(SqliteSchemaHost)).rejects.toThrow(/database\.schema: only for PostgreSQL/);
  });

  it('refuses an option it does not know, and says where routePrefix belongs', async () => {
    @Module({
      imports: [
        IamModule.forRootAsync({
          useFactory: () => ({ ...iamOptions(database), routePrefix: 'iam', sesion: {} }) as IamModuleOptions,
        }),
      ],
    })
    class TypoHost {}
    await expect(boot(TypoHost)).rejects.toThrow(
      /routePrefix: is not an IamModule option \(it shapes the module[\s\S]*sesion: is not an IamModule option/,
    );
  });

  it('connects to the database of a DataSource the host registered, with a pool and entities of its own', async () => {
    const file = hostDatabase.url.slice('sqlite:'.length).replace(/\.sqlite$/, '-shared.sqlite');
    @Module({
      imports: [
        TypeOrmModule.forRoot({ type: 'better-sqlite3', database: file, entities: [Widget], synchronize: true }),
        IamModule.forRootAsync({
          inject: [getDataSourceToken()],
          useFactory: (host: DataSource): IamModuleOptions => ({
            ...iamOptions(database),
            database: { dataSource: host },
          }),
        }),
      ],
    })
    class DataSourceHost {}
    const app = await boot(DataSourceHost);
    try {
      await request(app.getHttpServer()).post('/api/v1/users').set(admin).send({ name: 'in-host-db' }).expect(201);
      const host = app.get<DataSource>(getDataSourceToken());
      expect(host.hasMetadata('User')).toBe(false); // the host's DataSource still knows only its own entities
      expect(await host.query(`SELECT name FROM users`)).toEqual([{ name: 'in-host-db' }]);
    } finally {
      await app.close();
    }
  });

  it('refuses a database given both ways, or a DataSource it cannot share', async () => {
    const memory = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    for (const [database, problem] of [
      [{ url: 'sqlite:x.sqlite', dataSource: memory }, /not both/],
      [{ dataSource: memory }, /not supported/],
      [{ dataSource: { options: {} } }, /must be a TypeORM DataSource/],
    ] as const) {
      @Module({ imports: [IamModule.forRoot({ ...iamOptions(hostDatabase), database } as IamModuleOptions)] })
      class Refused {}
      await expect(boot(Refused)).rejects.toThrow(problem);
    }
  });

  it('uses the session cookie it is told to: name, Secure and SameSite', async () => {
    @Module({
      imports: [
        IamModule.forRoot({
          ...iamOptions(database),
          session: { cookieName: 'iam_sid', cookieSecure: false, cookieSameSite: 'strict' },
        }),
      ],
    })
    class CookieHost {}
    const app = await boot(CookieHost);
    try {
      const http = () => request(app.getHttpServer());
      const name = uniqueName();
      await http().post('/api/v1/users').set(admin).send({ name }).expect(201);
      await http().put(`/api/v1/users/${name}/password`).set(admin).send({ password: 'correct horse battery' });
      const login = await http()
        .post('/api/v1/login')
        .send({ username: name, password: 'correct horse battery' })
        .expect(200);
      const [cookie] = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
      expect(cookie).toMatch(/^iam_sid=[^;]+; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
      const pair = cookie.split(';')[0];
      expect((await http().get('/api/v1/users/me').set('Cookie', pair).expect(200)).body.name).toBe(name);
      await http().get('/api/v1/users/me').set('Cookie', pair.replace('iam_sid', 'session_id')).expect(401);
    } finally {
      await app.close();
    }
  });

  it('reads no environment variable: a host’s NODE_ENV, LOG_LEVEL and DATABASE_URL do not matter', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { NODE_ENV: 'staging', LOG_LEVEL: 'WARN', DATABASE_URL: 'nonsense://x' });
    try {
      @Module({ imports: [IamModule.forRoot(iamOptions(database))] })
      class EnvHost {}
      const app = await boot(EnvHost, setupIamSwagger);
      try {
        await request(app.getHttpServer()).get('/api/v1/users').set(admin).expect(200);
        // Swagger UI is off unless the option asks for it (setupIamSwagger ran before init, in boot()).
        await request(app.getHttpServer()).get('/docs-json').expect(404);
      } finally {
        await app.close();
      }
    } finally {
      process.env = saved;
    }
  });

  it('with migrations: skip, refuses to start on an unmigrated database, and starts once a job migrated it', async () => {
    const fresh = await createTestDatabase('sqlite');
    try {
      @Module({ imports: [IamModule.forRoot({ ...iamOptions(fresh), migrations: 'skip' })] })
      class SkipHost {}
      await expect(boot(SkipHost)).rejects.toThrow(/pending.*migrations: 'skip'/);
      // What a separate migration job does, with what the package exports.
      const dataSource = await new DataSource(iamDataSourceOptions({ url: fresh.url })).initialize();
      await runIamMigrations(dataSource);
      await dataSource.destroy();
      const app = await boot(SkipHost);
      try {
        await request(app.getHttpServer()).get('/api/v1/users').set(admin).expect(200);
      } finally {
        await app.close();
      }
    } finally {
      await fresh.drop();
    }
  });
});

// --- every IAM route is protected, whichever modules a host imports --------------------------------------

interface Route {
  controller: string;
  method: string;
  path: string;
  rule?: AccessRule;
}

function routesOf(controller: Type): Route[] {
  const prototype = controller.prototype as Record<string, unknown>;
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  return Object.getOwnPropertyNames(prototype)
    .filter((key) => key !== 'constructor' && typeof prototype[key] === 'function')
    .map((key) => prototype[key] as object)
    .filter((handler) => Reflect.getMetadata(PATH_METADATA, handler) !== undefined)
    .map((handler) => ({
      controller: controller.name,
      method: RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number],
      path: `/${[base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((p) => p && p !== '/').join('/')}`
        .replace(/:(\w+)/g, 'x-$1')
        .replace(/\/+/g, '/'),
      rule: (Reflect.getMetadata(ACCESS_KEY, handler) ?? Reflect.getMetadata(ACCESS_KEY, controller)) as
        AccessRule | undefined,
    }));
}

describe('every IAM controller carries its own protection', () => {
  const controllers = iamControllers();

  it('is marked and guarded by authentication then authorization', () => {
    expect(controllers.length).toBeGreaterThanOrEqual(9);
    for (const controller of controllers) {
      expect([controller.name, Reflect.getMetadata(IAM_CONTROLLER, controller)]).toEqual([controller.name, true]);
      expect([controller.name, Reflect.getMetadata(GUARDS_METADATA, controller)]).toEqual([
        controller.name,
        [AuthenticationGuard, AuthorizationGuard],
      ]);
    }
  });

  describe.each(IAM_FEATURE_MODULES.map((module) => [module.name, module] as const))(
    'a bare host importing IamCoreModule and %s',
    (_name, feature) => {
      let database: TestDatabase;
      let app: INestApplication;

      beforeAll(async () => {
        database = await createTestDatabase('sqlite');
        @Module({ imports: [IamCoreModule.forRoot(iamOptions(database)), feature] })
        class BareHost {}
        app = await boot(BareHost);
      });
      afterAll(async () => {
        await app?.close();
        await database?.drop();
      });

      it('answers 401 without credentials on every route that is not public', async () => {
        // What this host mounts: the feature module, and what IamCoreModule's authentication pulls in.
        const routes = iamControllers([AuthModule, feature])
          .flatMap(routesOf)
          .filter((route) => route.rule?.kind !== 'public');
        expect(routes.length).toBeGreaterThan(20);
        const answers: string[] = [];
        for (const route of routes) {
          const call = request(app.getHttpServer())[
            route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete'
          ](route.path);
          const res = await (route.method === 'GET' || route.method === 'DELETE' ? call : call.send({}));
          answers.push(`${route.method} ${route.path} ${res.status} ${String(res.body?.type)}`);
        }
        expect(answers).toEqual(routes.map((route) => `${route.method} ${route.path} 401 unauthorised`));
      });
    },
  );

  it('cannot mount a feature module without IamCoreModule', async () => {
    @Module({ imports: [IAM_FEATURE_MODULES[0]] })
    class Unprotected {}
    await expect(boot(Unprotected)).rejects.toThrow(/Nest can't resolve dependencies/);
  });
});

// PostgreSQL only (a schema of its own): with TEST_DATABASE_URL.
const SHARED_DATABASES = TEST_DATABASES.filter((kind) => kind === 'postgres');
// An empty .each table fails the run, so the block is defined only when there is a database for it.
if (SHARED_DATABASES.length > 0) {
  describe.each(SHARED_DATABASES)('IamModule in a shared database (%s)', (kind) => {
    let shared: TestDatabase;

    beforeAll(async () => {
      shared = await createTestDatabase(kind);
    });
    afterAll(async () => {
      await shared?.drop();
    });

    it('shares a host’s PostgreSQL DataSource’s database, in a schema of its own', async () => {
      @Module({
        imports: [
          TypeOrmModule.forRoot({ type: 'postgres', url: shared.url }),
          IamModule.forRootAsync({
            inject: [getDataSourceToken()],
            useFactory: (host: DataSource): IamModuleOptions => ({
              ...iamOptions(shared),
              database: { dataSource: host, schema: 'iam_from_host' },
            }),
          }),
        ],
      })
      class PostgresDataSourceHost {}
      const app = await boot(PostgresDataSourceHost);
      try {
        await request(app.getHttpServer()).post('/api/v1/users').set(admin).send({ name: 'bob' }).expect(201);
        const host = app.get<DataSource>(getDataSourceToken());
        expect(await host.query('SELECT name FROM iam_from_host.users')).toEqual([{ name: 'bob' }]);
      } finally {
        await app.close();
      }
    });

    it('keeps its tables, migrations table included, in its own schema beside the host’s tables of the same names', async () => {
      const host = await new DataSource({ type: 'postgres', url: shared.url }).initialize();
      try {
        await host.query('CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL)');
        await host.query('CREATE TABLE migrations (id serial PRIMARY KEY, name text NOT NULL)');
        await host.query(`INSERT INTO users (email) VALUES ('host@example.com')`);
        @Module({
          imports: [IamModule.forRoot({ ...iamOptions(shared), database: { url: shared.url, schema: 'iam' } })],
        })
        class SharedHost {}
        const app = await boot(SharedHost);
        try {
          await request(app.getHttpServer()).post('/api/v1/users').set(admin).send({ name: 'alice' }).expect(201);
          await request(app.getHttpServer()).get('/api/v1/users/alice').set(admin).expect(200);
        } finally {
          await app.close();
        }
        expect(await host.query('SELECT email FROM public.users')).toEqual([{ email: 'host@example.com' }]);
        expect(await host.query('SELECT count(*)::int AS n FROM public.migrations')).toEqual([{ n: 0 }]);
        expect(await host.query(`SELECT name FROM iam.users`)).toEqual([{ name: 'alice' }]);
        const [{ n }] = await host.query<{ n: number }[]>('SELECT count(*)::int AS n FROM iam.migrations');
        expect(n).toBeGreaterThan(0);
      } finally {
        await host.destroy();
      }
    });
  });
}
