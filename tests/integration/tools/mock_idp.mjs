// A real local identity provider for tests and the Postman collection:
// oauth2-mock-server (npm) on 127.0.0.1:PORT, issuer http://127.0.0.1:PORT,
// with one RS256 and one ES256 key, which sign tokens in turn (the first
// token RS256, the next ES256, ...).  Its password grant gives the user
// named by `username` a token for the app client AUDIENCE, with an email
// and names, as an identity provider's ID token has them.
//
// usage: node mock_idp.mjs PORT AUDIENCE
import { OAuth2Server } from "../../../deploy/local/node_modules/oauth2-mock-server/dist/index.mjs";

const [port, audience] = [Number(process.argv[2]), process.argv[3]];
const server = new OAuth2Server();

await server.issuer.keys.generate("RS256");
await server.issuer.keys.generate("ES256");
server.issuer.url = `http://127.0.0.1:${port}`;
server.service.on("beforeTokenSigning", (token, req) => {
  const user = req.body.username ?? "player";
  Object.assign(token.payload, {
    aud: audience,
    sub: `mock|${user}`,
    email: `${user}@example.org`,
    given_name: user,
    family_name: "Mock",
  });
});
await server.start(port, "127.0.0.1");
console.log(`identity provider ${server.issuer.url}`);
