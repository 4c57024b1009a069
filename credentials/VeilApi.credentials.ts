import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class VeilApi implements ICredentialType {
	name = 'veilApi';

	displayName = 'Veil API';

	icon: Icon = { light: 'file:../nodes/shared/veil.svg', dark: 'file:../nodes/shared/veil.dark.svg' };

	documentationUrl = 'https://github.com/veil-money/veil#the-n8n-node-pack';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'http://127.0.0.1:4100',
			placeholder: 'https://ledger.example.com',
			description: 'Where the Veil ledger service listens, without a trailing slash',
			required: true,
		},
		{
			displayName: 'API Token',
			name: 'apiToken',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'An API token created with POST /auth/tokens (scoped to entities and to read / write / move_money)',
			required: true,
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Bearer {{$credentials.apiToken}}',
			},
		},
	};

	// GET /auth/me answers 200 for any valid credential and 401 otherwise.
	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/auth/me',
			method: 'GET',
		},
	};
}
