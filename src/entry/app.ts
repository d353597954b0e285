/** The HTTP application with every feature's routes (routes.ts): what processes serve and tests inject into. */
import { buildApp as buildKernelApp, type App, type AppDependencies } from '../platform/http/app.js';
import { featureRoutes } from './routes.js';

export type { App, AppDependencies };

export function buildApp(deps: Omit<AppDependencies, 'features'>): Promise<App> {
  return buildKernelApp({ ...deps, features: featureRoutes });
}
