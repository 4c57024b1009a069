import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// One zod, extended once with `.openapi()`, imported by every schema module.
extendZodWithOpenApi(z);

export { z };
