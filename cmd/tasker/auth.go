package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tasker-go/tasker/pkg/auth"
)

// newAuthCmd groups the key and token tools (docs/auth.md).
func newAuthCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Generate API keys, JWT signing keys and tokens; list permissions",
		RunE:  groupRunE,
	}
	cmd.AddCommand(newAuthGenerateKeyCmd(), newAuthGenerateKeysCmd(), newAuthGenerateTokenCmd(), newAuthPermissionsCmd())
	return cmd
}

func newAuthGenerateKeyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "generate-key",
		Short: "Print a new random API key (tk_…)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := auth.GenerateAPIKey()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), key)
			return nil
		},
	}
}

func newAuthGenerateKeysCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "generate-keys",
		Short: "Write a new RSA key pair for signing JWTs: jwt-private.pem and jwt-public.pem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			priv, pub, err := auth.GenerateKeyPair()
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			privPath, pubPath := filepath.Join(out, "jwt-private.pem"), filepath.Join(out, "jwt-public.pem")
			for _, p := range []string{privPath, pubPath} {
				if _, err := os.Stat(p); err == nil {
					return fmt.Errorf("--out: %s exists; refusing to overwrite a key", p)
				}
			}
			if err := os.WriteFile(privPath, []byte(priv), 0o600); err != nil {
				return err
			}
			if err := os.WriteFile(pubPath, []byte(pub), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (keep it secret) and %s (TASKER_JWT_PUBLIC_KEY_FILE)\n", privPath, pubPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", ".", "directory to write the key files to")
	return cmd
}

func newAuthGenerateTokenCmd() *cobra.Command {
	var (
		keyPath, subject, perms, issuer, audience string
		ttl                                       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "generate-token",
		Short: "Print a signed RS256 JWT carrying permissions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyPath == "" {
				return usageErrorf("--key is required (the private key PEM from generate-keys)")
			}
			if subject == "" {
				return usageErrorf("--subject is required")
			}
			list := strings.Split(perms, ",")
			if _, err := auth.NewSet(list...); err != nil {
				return usageErrorf("--permissions: %v", err)
			}
			if ttl <= 0 {
				return usageErrorf("--ttl must be positive")
			}
			priv, err := os.ReadFile(keyPath)
			if err != nil {
				return fmt.Errorf("--key: %w", err)
			}
			tok, err := auth.IssueToken(string(priv), subject, list, ttl, issuer, audience)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "private key PEM file")
	cmd.Flags().StringVar(&subject, "subject", "", "the token's subject (who it is for)")
	cmd.Flags().StringVar(&perms, "permissions", "tasks:read", "comma-separated permissions, e.g. 'tasks:*,dlq:read'")
	cmd.Flags().DurationVar(&ttl, "ttl", time.Hour, "how long the token is valid")
	cmd.Flags().StringVar(&issuer, "issuer", "tasker-core", "the iss claim")
	cmd.Flags().StringVar(&audience, "audience", "tasker-api", "the aud claim")
	return cmd
}

func newAuthPermissionsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "permissions",
		Short: "List every permission (resource:action; resource:* grants a resource)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, p := range auth.All() {
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
			return nil
		},
	}
}
