// Package webauthntest is a software authenticator for tests: what a
// phone or security key does for a passkey, in a few lines, so that tests
// can register and sign as a browser would — and try what an attacker
// would (another origin, a replayed answer, a cloned key).
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

var b64 = base64.RawURLEncoding

// Key is one passkey of the authenticator.
type Key struct {
	// ID is the credential id.
	ID []byte
	// RPID and Origin are the site the key answers as: the browser's
	// page origin, which an attacker's page would change.
	RPID, Origin string
	// Count is the signature counter, raised by each Sign.
	Count uint32
	// User is the user handle the site gave at registration.
	User []byte

	priv *ecdsa.PrivateKey
}

// NewKey returns a new key for the site rpID served at origin.
func NewKey(rpID, origin string) *Key {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &Key{ID: id, RPID: rpID, Origin: origin, priv: priv}
}

// options reads the challenge, and a registration's user handle, out of
// a site's options ({"publicKey": {...}}).
func options(opts []byte) (challenge string, user []byte, err error) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || o.PublicKey.Challenge == "" {
		return "", nil, fmt.Errorf("webauthntest: options %q: %v", opts, err)
	}
	if o.PublicKey.User.ID != "" {
		if user, err = b64.DecodeString(o.PublicKey.User.ID); err != nil {
			return "", nil, err
		}
	}
	return o.PublicKey.Challenge, user, nil
}

func (k *Key) clientData(kind, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": kind, "challenge": challenge, "origin": k.Origin, "crossOrigin": false})
	return b
}

func (k *Key) authData(attested bool) []byte {
	rp := sha256.Sum256([]byte(k.RPID))
	flags := byte(0x01 | 0x04) // user present, user verified
	if attested {
		flags |= 0x40
	}
	out := append(rp[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.Count)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(k.ID)))
		out = append(out, k.ID...)
		x, y := make([]byte, 32), make([]byte, 32)
		k.priv.X.FillBytes(x)
		k.priv.Y.FillBytes(y)
		cose, _ := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y}) // EC2, ES256, P-256
		out = append(out, cose...)
	}
	return out
}

// Register answers a site's registration options with the JSON a browser
// sends back ("none" attestation).
func (k *Key) Register(opts []byte) ([]byte, error) {
	challenge, user, err := options(opts)
	if err != nil {
		return nil, err
	}
	k.User = user
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(true)})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.ID), "rawId": b64.EncodeToString(k.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(k.clientData("webauthn.create", challenge)),
			"attestationObject": b64.EncodeToString(att),
		},
	})
}

// Sign answers a site's login options, raising the counter.
func (k *Key) Sign(opts []byte) ([]byte, error) {
	challenge, _, err := options(opts)
	if err != nil {
		return nil, err
	}
	k.Count++
	auth := k.authData(false)
	cd := k.clientData("webauthn.get", challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.ID), "rawId": b64.EncodeToString(k.ID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(k.User),
		},
	})
}
